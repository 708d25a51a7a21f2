from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), [InputRequired(_l("请输入用户名。"))])
    password = PasswordField(_l("密码"), [InputRequired(_l("请输入密码。"))])
