"""Forms for staff actions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from intake.forms import ActionForm, errors_text  # noqa: F401  (read from here too)


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("退单理由"), [InputRequired(_l("退单必须写明理由。")), Length(max=1000)])


class ReplyForm(FlaskForm):
    result = SelectField(_l("办理结果"), choices=[], validators=[InputRequired(_l("请选择办理结果。"))])
    text = TextAreaField(
        _l("答复内容（投诉人/举报人将看到）"), [InputRequired(_l("请写明答复内容。")), Length(max=5000)]
    )


class ExtensionForm(FlaskForm):
    reason = TextAreaField(_l("延期理由"), [InputRequired(_l("申请延期须写明理由。")), Length(max=1000)])


class ExtensionDecisionForm(FlaskForm):
    decision = SelectField(
        _l("审批意见"),
        choices=[SelectChoice("approve", _l("批准延期")), SelectChoice("refuse", _l("不予延期"))],
        validators=[InputRequired()],
    )
    note = TextAreaField(_l("审批说明"), [Length(max=1000)])
    next = HiddenField(default="")


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("发回重办理由"), [InputRequired(_l("发回重办须写明理由。")), Length(max=1000)])


class CallbackForm(FlaskForm):
    answer = SelectField(
        _l("回访结果"),
        choices=[
            SelectChoice("satisfied", _l("满意")),
            SelectChoice("basic", _l("基本满意")),
            SelectChoice("dissatisfied", _l("不满意")),
            SelectChoice("no_response", _l("联系不上 / 未应答")),
        ],
        validators=[InputRequired(_l("请选择回访结果。"))],
    )
    note = TextAreaField(_l("回访记录"), [Length(max=1000)])
