"""The SMS gateway's webhook body and answers: the model parse_inbound reads a body with, and the
OpenAPI document's (intake/openapi.py).

The body is read on the raw, signed bytes (intake.sms.services.parse_inbound); a signed body this
model refuses is kept as `unreadable` and answered 200, so the gateway does not redeliver it forever.
Each field's check is the webhook's own (its message, in Chinese); the first error found is the one told.
"""

from datetime import datetime, timezone
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from intake.schemas import problem
from intake.types import utcnow
from routing.calendar import parse_local_time

MAX_PARTS = 255  # the concatenation header counts parts in one byte


def _string(field: str, most: int | None, required: bool = False, numbers: bool = False):
    """Text (a number too when `numbers`); stripped when it has a limit; absent or null is ""."""

    def read(value: Any) -> str:
        if value is None:
            value = ""
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise problem(_("%(f)s 必须是文字。", f=field))
        if required and not value.strip():
            raise problem(_("缺少 %(f)s。", f=field))
        if most is not None and len(value) > most:
            raise problem(_("%(f)s 不能超过 %(n)d 个字符。", f=field, n=most))
        return value.strip() if most is not None else value

    shown = {"type": "string", **({"maxLength": most} if most else {}), **({"minLength": 1} if required else {})}
    if numbers:
        shown = {"anyOf": [shown, {"type": "integer"}]}
    if not required:
        shown = {"anyOf": [shown, {"type": "null"}]}
    return [BeforeValidator(read), WithJsonSchema(shown)]


def _count(field: str):
    def read(value: Any) -> int:
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARTS:
            raise problem(_("%(f)s 必须是 1 到 %(n)d 的整数。", f=field, n=MAX_PARTS))
        return value

    shown = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_PARTS}, {"type": "null"}]}
    return [BeforeValidator(read), WithJsonSchema(shown)]


def _time(value: Any) -> datetime:
    """ISO 8601 (Beijing time when it names no zone) or Unix seconds; now when absent."""
    if value is None or value == "":
        return utcnow()
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, timezone.utc)
        if isinstance(value, str):
            return parse_local_time(value).astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    raise problem(_("received_at 必须是 ISO 8601 时间，例如 2026-11-23T09:30:00+08:00。"))


TIME_SCHEMA = {
    "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
    "description": "ISO 8601（不带时区时按北京时间）或 Unix 秒；缺省为收到的时间",
}


def _required(schema: dict) -> None:
    schema["required"] = ["message_id", "from"]
    for name in schema["required"]:
        schema["properties"][name].pop("default", None)


class InboundSmsIn(BaseModel):
    """一条上行短信（或长短信的一段），由网关签名（X-Signature）。"""

    model_config = ConfigDict(strict=True, title="InboundSms", json_schema_extra=_required)

    message_id: Annotated[str, *_string("message_id", 100, required=True)] = Field(
        None, validate_default=True, description="网关的短信编号；同一编号只处理一次"
    )
    sender: Annotated[str, *_string("from", 32, required=True)] = Field(
        None, alias="from", validate_default=True, description="发送号码"
    )
    to: Annotated[str, *_string("to", 32)] = Field(None, validate_default=True, description="接收号码")
    text: Annotated[str, *_string("text", None)] = Field(None, validate_default=True, description="短信内容")
    received_at: Annotated[datetime, BeforeValidator(_time), WithJsonSchema(TIME_SCHEMA)] = Field(
        None, validate_default=True
    )
    concat_ref: Annotated[str, *_string("concat_ref", 32, numbers=True)] = Field(
        None, validate_default=True, description="分段短信的参考号（分段时必填）"
    )
    part_no: Annotated[int, *_count("part_no")] = Field(None, validate_default=True, description="第几段")
    part_count: Annotated[int, *_count("part_count")] = Field(None, validate_default=True, description="共几段")


SMS_STATUSES = (
    "new_case",
    "added",
    "joined",
    "part",
    "duplicate",
    "ignored",
    "limited",
    "query",
    "survey",
    "opt_out",
    "help",
    "throttled",
    "unreadable",
)


class SmsHandled(BaseModel):
    """What became of the message; a signed body that could not be read is `unreadable`, with why."""

    status: str = Field(description="、".join(SMS_STATUSES))
    message: str | None = None
    errors: dict[str, list[str]] | None = None
