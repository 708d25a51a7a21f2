"""The phone system's call announcement, and the case form as the operator fills it in."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from intake.cases.forms import CaseForm
from intake.extensions import db
from intake.forms import IntakeForm
from intake.phones import normalise_phone
from intake.places.services import resolve_place
from intake.reference.models import Division, DivisionLevel
from routing.calendar import parse_local_time


class CallAnnouncementForm(IntakeForm):
    """POST /hotline/calls from the phone system (JSON; the bearer token stands in for CSRF)."""

    class Meta:
        csrf = False

    call_id = StringField(
        "call_id",
        [
            InputRequired(_l("缺少来电编号 call_id。")),
            Length(max=100, message=_l("来电编号 call_id 不能超过 %(max)d 个字符。")),
        ],
    )
    caller = StringField(
        "caller",
        [
            InputRequired(_l("缺少来电号码 caller。")),
            Length(max=20, message=_l("来电号码 caller 不能超过 %(max)d 个字符。")),
        ],
    )
    line = StringField("line", [Optional(), Length(max=32, message=_l("线路 line 不能超过 %(max)d 个字符。"))])
    started_at = StringField("started_at", [InputRequired(_l("缺少来电时间 started_at。"))])

    def validate_caller(self, field):
        """E.164 when the number parses; as given otherwise (a withheld or odd number still rings)."""
        raw = field.data.strip()
        self.caller_e164 = normalise_phone(raw, current_app.config["DEFAULT_REGION"]) or raw

    def validate_started_at(self, field):
        """ISO 8601; a time without a zone is Beijing time, as phone systems here send it."""
        try:
            self.started = parse_local_time(field.data)
        except ValueError:
            raise ValidationError(_l("来电时间 started_at 须为 ISO 8601 格式，例如 2026-05-06T09:30:00+08:00。"))


class HotlineCaseForm(CaseForm):
    """The citizen's case form plus what the operator picks: township, village, an answer."""

    township = StringField(_l("乡镇（街道）：输入几个字或拼音首字母"), [Length(max=64)])
    township_code = HiddenField()
    village = StringField(_l("村（社区）"), [Length(max=64)])
    village_code = HiddenField()
    answer = TextAreaField(
        _l("当场答复内容（仅咨询）"), [Optional(), Length(max=5000, message=_l("答复不能超过 %(max)d 个字。"))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the operator fills it in for the caller
        self.complainant_name.label.text = _l("来电人姓名")
        self.complainant_phone.label.text = _l("联系电话（默认来电号码）")
        self.township_division = None
        self.village_division = None

    def validate_township(self, field):
        text = (field.data or "").strip()
        code = (self.township_code.data or "").strip()
        if not text and not code:
            return
        found = _division(code, DivisionLevel.TOWNSHIP) if code else None
        if found is None and text:  # typed without picking from the list: the place search's first
            found = _division(resolve_place(text), DivisionLevel.TOWNSHIP)
        if found is None:
            raise ValidationError(_l("请从列表中选择乡镇（街道）：输入几个字或拼音首字母后按回车。"))
        self.township_division = found

    def validate_village(self, field):
        text = (field.data or "").strip()
        code = (self.village_code.data or "").strip()
        if not text and not code:
            return
        township = self.township_division
        if township is None:
            raise ValidationError(_l("请先选择乡镇（街道），再选择村（社区）。"))
        found = _division(code, DivisionLevel.VILLAGE) if code else None
        if found is None and text:
            found = _division(resolve_place(text, township=township.code), DivisionLevel.VILLAGE)
        if found is None or found.parent_code != township.code:
            raise ValidationError(_l("请从列表中选择%(t)s下辖的村（社区）。", t=township.name))
        self.village_division = found


def _division(code: str | None, level: DivisionLevel) -> Division | None:
    found = db.session.get(Division, code) if code else None
    return found if found is not None and found.level is level else None
