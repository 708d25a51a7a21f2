"""The case form: its fields for the page; its rules are intake/cases/rules.py, which the JSON API asks too."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField

from intake.cases import rules
from intake.cases.kinds import KINDS
from intake.cases.rules import DESCRIPTION_MAX, industry_choices  # noqa: F401  (read from here too)
from intake.forms import IntakeForm
from intake.phones import normalise_phone  # noqa: F401  (read from here too)
from intake.reference.cache import cached

KIND_CHOICES = [SelectChoice(k.value, spec.choice) for k, spec in KINDS.items()]
KIND_VALUES = {c.value for c in KIND_CHOICES}


def _industry_select_choices() -> list[SelectChoice]:
    """The industry field's choices, built once per process too (SelectChoice is immutable and its
    "不清楚" label is translated when shown, so every form can share one list)."""
    return cached(
        "case_form_industry_choices",
        ("industry",),
        lambda: [SelectChoice("", _l("不清楚"))] + [SelectChoice(c, n) for c, n in industry_choices()],
    )


class CaseForm(IntakeForm):
    """What a citizen (or an operator for them) tells us about a business.

    The fields carry no validators of their own: `validate` hands their data to
    `intake.cases.rules.case_problems`, the rules the JSON entry points apply too.
    """

    kind = RadioField(_l("类型"), choices=KIND_CHOICES, validate_choice=False)
    business_name = StringField(_l("商家名称（店名）"))
    business_address = StringField(_l("商家地址（县、乡镇或街道、村或社区、路名门牌）"))
    description = TextAreaField(_l("发生了什么"))
    industry = SelectField(_l("商家类型（不清楚可不选）"), choices=[], validate_choice=False)
    complainant_name = StringField(_l("您的姓名"))
    complainant_phone = StringField(_l("您的手机或电话"))
    anonymous = BooleanField(_l("匿名举报（不留姓名和电话）"))
    disclose_identity = BooleanField(_l("同意承办部门知道我的身份"))
    urgent = BooleanField(_l("情况紧急（如正在发生的安全隐患）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.industry.choices = _industry_select_choices()
        self.phone_e164 = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)  # the text the database cannot store, the subclass's fields
        if not ok and any(self[name].errors for name in rules.TEXT_FIELDS):
            return False  # unstorable text: asked of no rule (one might query with it)
        values = {name: self[name].data for name in rules.TEXT_FIELDS}
        values.update({name: bool(self[name].data) for name in rules.FLAGS})
        checked = rules.case_problems(values, current_app.config["DEFAULT_REGION"])
        for name, messages in checked.errors.items():
            self[name].errors = [*self[name].errors, *messages]
        self.phone_e164 = checked.phone_e164
        return ok and not checked.errors
