"""Forms for staff actions."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from intake.cases.kinds import KIND_LABELS
from intake.cases.labels import STATUS_LABELS
from intake.cases.models import OPEN_STATUSES, CaseKind, CaseStatus
from intake.forms import ActionForm, IntakeForm, errors_text  # noqa: F401  (read from here too)
from intake.types import utcnow
from routing.calendar import to_local


class ReturnForm(IntakeForm):
    reason = TextAreaField(_l("退单理由"), [InputRequired(_l("退单必须写明理由。")), Length(max=1000)])


class ReplyForm(IntakeForm):
    result = SelectField(_l("办理结果"), choices=[], validators=[InputRequired(_l("请选择办理结果。"))])
    text = TextAreaField(
        _l("答复内容（投诉人/举报人将看到）"), [InputRequired(_l("请写明答复内容。")), Length(max=5000)]
    )


class ExtensionForm(IntakeForm):
    reason = TextAreaField(_l("延期理由"), [InputRequired(_l("申请延期须写明理由。")), Length(max=1000)])


class ExtensionDecisionForm(IntakeForm):
    decision = SelectField(
        _l("审批意见"),
        choices=[SelectChoice("approve", _l("批准延期")), SelectChoice("refuse", _l("不予延期"))],
        validators=[InputRequired()],
    )
    note = TextAreaField(_l("审批说明"), [Length(max=1000)])
    next = HiddenField(default="")


class ReopenForm(IntakeForm):
    reason = TextAreaField(_l("发回重办理由"), [InputRequired(_l("发回重办须写明理由。")), Length(max=1000)])


class CallbackForm(IntakeForm):
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


class ChineseDateField(DateField):
    """A date field (a date picker in the browser) whose error for an unreadable date is in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("日期格式不正确，请按“年-月-日”填写。"))) from exc


def not_in_future(form, field) -> None:
    if field.data and field.data > to_local(utcnow()).date():
        raise ValidationError(_l("核查日期不能晚于今天。"))


class SiteVisitForm(IntakeForm):
    """协办意见 of the township: when staff went to the business and what they found."""

    visited_on = ChineseDateField(_l("核查日期"), [InputRequired(_l("请填写核查日期。")), not_in_future])
    findings = TextAreaField(
        _l("现场核查情况"),
        [InputRequired(_l("请写明现场核查情况。")), Length(max=2000, message=_l("核查情况不能超过2000个字。"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.visited_on.render_kw = {"max": to_local(utcnow()).date().isoformat()}


class CoOpinionForm(IntakeForm):
    opinion = TextAreaField(
        _l("协办意见"),
        [InputRequired(_l("请写明协办意见。")), Length(max=2000, message=_l("协办意见不能超过2000个字。"))],
    )


class QueueFilterForm(Form):
    """The queue's GET filters; a value that is not a choice is a form error and is ignored, never a 500."""

    class Meta:
        csrf = False
        locales = ("zh_CN", "zh")

    status = SelectField(
        _l("状态"),
        choices=[SelectChoice("", _l("全部状态"))]
        + [SelectChoice(s.value, STATUS_LABELS[s]) for s in CaseStatus if s in OPEN_STATUSES],
        default="",
    )
    kind = SelectField(
        _l("类型"),
        choices=[SelectChoice("", _l("全部类型"))] + [SelectChoice(k, v) for k, v in KIND_LABELS.items()],
        default="",
    )
    industry = SelectField(_l("行业"), choices=[], default="")  # the view sets the choices
    township = SelectField(_l("属地"), choices=[], default="")
    overdue = BooleanField(_l("只看已超期"))
    q = SearchField(
        _l("受理编号、商家或电话"),
        [
            Optional(),
            Length(max=50, message=_l("搜索词不超过50个字。")),
            Regexp(r"^[^\x00]*$", message=_l("搜索词里有无法识别的字符。")),
        ],
    )
    page = IntegerField(_l("页码"), [Optional(), NumberRange(min=1, max=100000, message=_l("页码不正确。"))], default=1)

    def value(self, name):
        """A field's value, or None when it was not given or did not validate."""
        field = self[name]
        return None if field.errors or field.data in ("", None) else field.data

    def chosen(self):
        """(status, kind, industry, township, overdue, q, page) after validation, odd values dropped."""
        status, kind = self.value("status"), self.value("kind")
        return dict(
            status=CaseStatus(status) if status else None,
            kind=CaseKind(kind) if kind else None,
            industry=self.value("industry"),
            township=self.value("township"),
            overdue=bool(self.value("overdue")),
            q=self.value("q") or "",
        ), self.value("page") or 1
