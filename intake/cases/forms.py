"""The case form: one set of rules for the web form and the JSON API."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from intake.cases.kinds import KINDS, CaseKind, Identity
from intake.extensions import db
from intake.forms import IntakeForm
from intake.phones import normalise_phone  # noqa: F401  (read from here too)
from intake.reference.cache import cached
from intake.reference.models import Industry

KIND_CHOICES = [SelectChoice(k.value, spec.choice) for k, spec in KINDS.items()]
KIND_VALUES = {c.value for c in KIND_CHOICES}
DESCRIPTION_MAX = 5000


def industry_choices() -> list[tuple[str, str]]:
    """(code, name) of every industry in the form's order: read once per process (intake.reference.cache)."""

    def read():
        return [
            tuple(row)
            for row in db.session.execute(db.select(Industry.code, Industry.name).order_by(Industry.position))
        ]

    return cached("case_form_industries", ("industry",), read)


def _industry_select_choices() -> list[SelectChoice]:
    """The industry field's choices, built once per process too (SelectChoice is immutable and its
    "不清楚" label is translated when shown, so every form can share one list)."""
    return cached(
        "case_form_industry_choices",
        ("industry",),
        lambda: [SelectChoice("", _l("不清楚"))] + [SelectChoice(c, n) for c, n in industry_choices()],
    )


class CaseForm(IntakeForm):
    """What a citizen (or an operator for them) tells us about a business."""

    kind = RadioField(
        _l("类型"), choices=KIND_CHOICES, validators=[InputRequired(_l("请选择投诉、举报、咨询或建议。"))]
    )
    business_name = StringField(
        _l("商家名称（店名）"), [Optional(), Length(max=200, message=_l("商家名称不能超过 %(max)d 个字。"))]
    )
    business_address = StringField(
        _l("商家地址（县、乡镇或街道、村或社区、路名门牌）"),
        [Optional(), Length(max=300, message=_l("地址不能超过 %(max)d 个字。"))],
    )
    description = TextAreaField(
        _l("发生了什么"),
        [
            InputRequired(_l("请写明发生了什么。")),
            Length(min=5, max=DESCRIPTION_MAX, message=_l("请用 %(min)d 到 %(max)d 个字写明发生了什么。")),
        ],
    )
    industry = SelectField(_l("商家类型（不清楚可不选）"), choices=[], validators=[Optional()])
    complainant_name = StringField(
        _l("您的姓名"), [Optional(), Length(max=64, message=_l("姓名不能超过 %(max)d 个字。"))]
    )
    complainant_phone = StringField(_l("您的手机或电话"), [Optional(), Length(max=32, message=_l("电话号码太长。"))])
    anonymous = BooleanField(_l("匿名举报（不留姓名和电话）"))
    disclose_identity = BooleanField(_l("同意承办部门知道我的身份"))
    urgent = BooleanField(_l("情况紧急（如正在发生的安全隐患）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.industry.choices = _industry_select_choices()
        self.phone_e164 = None

    def validate_complainant_phone(self, field):
        if field.data and field.data.strip():
            self.phone_e164 = normalise_phone(field.data.strip(), current_app.config["DEFAULT_REGION"])
            if self.phone_e164 is None:
                raise ValidationError(_l("请填写正确的手机号码或带区号的固定电话，例如 13812345678 或 0577-67123456。"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kind = self.kind.data
        identity = KINDS[CaseKind(kind)].identity if kind in KIND_VALUES else None
        if identity is Identity.REAL_NAME:
            ok &= self._require(self.complainant_name, _l("投诉需要留下真实姓名，方便调解。"))
            ok &= self._require(self.complainant_phone, _l("投诉需要留下联系电话，方便办理人员联系您。"))
            if self.anonymous.data:
                self.anonymous.errors = [_l("投诉不能匿名；如只想反映违法行为，请选择“举报”。")]
                ok = False
        elif identity is Identity.MAY_BE_ANONYMOUS and not self.anonymous.data:
            ok &= self._require(self.complainant_phone, _l("实名举报请留下联系电话；不想留电话可以勾选匿名举报。"))
        return ok

    @staticmethod
    def _require(field, message) -> bool:
        if field.data and field.data.strip():
            return True
        field.errors = list(field.errors) + [message]
        return False
