"""Forms for staff actions."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length


class ActionForm(FlaskForm):
    """A bare form that carries the CSRF token for one-click actions."""


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("退单理由"), [InputRequired(_l("退单必须写明理由。")), Length(max=1000)])


class ReplyForm(FlaskForm):
    result = SelectField(_l("办理结果"), choices=[], validators=[InputRequired(_l("请选择办理结果。"))])
    text = TextAreaField(_l("答复内容（投诉人/举报人将看到）"),
                         [InputRequired(_l("请写明答复内容。")), Length(max=5000)])


def errors_text(form) -> str:
    """All of a form's error messages, for a flash."""
    return "；".join(str(e) for errs in form.errors.values() for e in errs)
