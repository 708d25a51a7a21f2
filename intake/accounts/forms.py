from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired

from intake.forms import IntakeForm


class LoginForm(IntakeForm):
    username = StringField(_l("用户名"), [InputRequired(_l("请输入用户名。"))])
    password = PasswordField(_l("密码"), [InputRequired(_l("请输入密码。"))])


class PasswordChangeForm(IntakeForm):
    current_password = PasswordField(_l("当前密码"), [InputRequired(_l("请输入当前密码。"))])
    new_password = PasswordField(_l("新密码"), [InputRequired(_l("请输入新密码。"))])
    confirm = PasswordField(
        _l("再次输入新密码"),
        [InputRequired(_l("请再次输入新密码。")), EqualTo("new_password", _l("两次输入的新密码不一致。"))],
    )
