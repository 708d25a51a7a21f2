"""The phone system's call announcement, and the case form as the operator fills it in."""

from datetime import datetime
from typing import Annotated

import pydantic
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from intake.cases.forms import CaseForm
from intake.extensions import db
from intake.phones import normalise_phone
from intake.places.services import resolve_place
from intake.reference.models import Division, DivisionLevel
from intake.schemas import Text, field_errors, problem, required
from routing.calendar import parse_local_time


def _text(field: str, most: int | None, missing=None, too_long=None):
    """A text field of the announcement: required when `missing` is its message; at most `most` characters."""

    def check(value: str | None) -> str | None:
        if missing is not None and not (value and value.strip()):
            raise problem(missing)
        if value is not None and most is not None and len(value) > most:
            raise problem(too_long % {"max": most})
        return value

    shown = {"type": "string", "maxLength": most}
    if missing is None:
        shown = {"anyOf": [shown, {"type": "null"}]}
    elif field == "call_id":  # phone systems send it as text or as a number
        shown = {"anyOf": [{**shown, "minLength": 1}, {"type": "integer"}]}
    else:
        shown["minLength"] = 1
    return [AfterValidator(check), WithJsonSchema(shown)]


def _digits_as_text(value):
    """A numeric call_id is taken as its digits (phone systems send either)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _local_time(value: str | None) -> datetime:
    """ISO 8601; a time without a zone is Beijing time, as phone systems here send it."""
    if not (value and value.strip()):
        raise problem(_l("缺少来电时间 started_at。"))
    try:
        return parse_local_time(value)
    except ValueError:
        raise problem(_l("来电时间 started_at 须为 ISO 8601 格式，例如 2026-05-06T09:30:00+08:00。"))


EXAMPLE = {
    "call_id": "20260506-0001",
    "caller": "13812345678",
    "line": "12315-3",
    "started_at": "2026-05-06T09:30:00+08:00",
}


class CallAnnouncement(BaseModel):
    """话务系统的来电通知（POST /hotline/calls，JSON；以令牌代替 CSRF）。"""

    model_config = ConfigDict(
        strict=True, json_schema_extra=required("call_id", "caller", "started_at", examples=[EXAMPLE])
    )

    call_id: Annotated[
        Text | None,
        BeforeValidator(_digits_as_text),
        *_text("call_id", 100, _l("缺少来电编号 call_id。"), _l("来电编号 call_id 不能超过 %(max)d 个字符。")),
    ] = Field(None, validate_default=True, description="话务系统的来电编号（文字或整数）；同一编号只登记一次")
    caller: Annotated[
        Text | None, *_text("caller", 20, _l("缺少来电号码 caller。"), _l("来电号码 caller 不能超过 %(max)d 个字符。"))
    ] = Field(None, validate_default=True, description="来电号码；能识别时存为 E.164")
    line: Annotated[Text | None, *_text("line", 32, too_long=_l("线路 line 不能超过 %(max)d 个字符。"))] = None
    started_at: Annotated[
        Text | None,
        AfterValidator(_local_time),
        WithJsonSchema({"type": "string", "description": "ISO 8601；不带时区时按北京时间"}),
    ] = Field(None, validate_default=True)

    def caller_e164(self, region: str) -> str:
        """E.164 when the number parses; as given otherwise (a withheld or odd number still rings)."""
        raw = self.caller.strip()
        return normalise_phone(raw, region) or raw


ANNOUNCEMENT_TYPES = {(key, "string_type"): key for key in CallAnnouncement.model_fields}


def announcement_from_json(body: dict) -> CallAnnouncement:
    """The announcement in this JSON object, or InvalidAnnouncement with the field errors in Chinese."""
    try:
        return CallAnnouncement.model_validate(body)
    except pydantic.ValidationError as exc:
        wrong_type = {where: _("%(key)s 必须是文字。", key=key) for where, key in ANNOUNCEMENT_TYPES.items()}
        raise InvalidAnnouncement(field_errors(exc, wrong_type)) from None


class InvalidAnnouncement(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class CallAnnounced(BaseModel):
    id: int
    call_id: str
    caller: str
    status: str


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
