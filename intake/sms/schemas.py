"""The SMS gateway's webhook as the OpenAPI document describes it (intake/openapi.py).

The body is read by `intake.sms.services.parse_inbound` on the raw, signed bytes (a signed body it
cannot read is kept as `unreadable` and answered 200, so the gateway does not redeliver it forever);
these models say what it reads and answers, with the limits parse_inbound checks.
"""

from pydantic import BaseModel, ConfigDict, Field

from intake.sms.services import MAX_PARTS


class InboundSmsIn(BaseModel):
    """One message (or one part of a long one), signed by the gateway (X-Signature)."""

    model_config = ConfigDict(strict=True, title="InboundSms")

    message_id: str = Field(max_length=100, description="网关的短信编号；同一编号只处理一次")
    from_: str = Field(alias="from", max_length=32, description="发送号码")
    to: str | None = Field(None, max_length=32, description="接收号码")
    text: str | None = Field(None, description="短信内容")
    received_at: str | int | float | None = Field(
        None, description="ISO 8601（不带时区时按北京时间）或 Unix 秒；缺省为收到的时间"
    )
    concat_ref: str | int | None = Field(None, description="分段短信的参考号（分段时必填）")
    part_no: int | None = Field(None, ge=1, le=MAX_PARTS, description="第几段")
    part_count: int | None = Field(None, ge=1, le=MAX_PARTS, description="共几段")


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
