"""Which of the router's reasons the caller's phone gave, and how to say them without it.

The router may use a caller's number (its area code, a mobile's region) to place a case, but
who the caller is stays with those who may see it. So a reason derived from the number is a
``PhoneReason``: it reads as any other reason, and carries ``public``, the same reason said
without the number or its region, for everyone else.
"""

from __future__ import annotations

PHONE = "phone"
PHONE_HINT = "按来电信息辅助判断"
PHONE_DOUBT = "按来电信息判断，需人工确认"


class PhoneReason(str):
    """A reason the caller's number gave; ``public`` says it without the number or its region."""

    source = PHONE

    def __new__(cls, text: str, public: str = PHONE_HINT) -> PhoneReason:
        reason = super().__new__(cls, text)
        reason.public = public
        return reason


def from_phone(reason) -> bool:
    return getattr(reason, "source", None) == PHONE


def public_wording(reason) -> str:
    """The reason as anyone handling the case may read it."""
    return reason.public if from_phone(reason) else str(reason)


def prefixed(prefix: str, reason):
    """``prefix + reason``, still marked when the phone gave it."""
    if from_phone(reason):
        return PhoneReason(prefix + reason, prefix + reason.public)
    return prefix + reason
