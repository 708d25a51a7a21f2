"""A call announced by the phone system, and what the operator made of it."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.statemachine import StateTable
from intake.types import UTCDateTime, enum_column, utcnow


class CallStatus(enum.Enum):
    RINGING = "ringing"  # announced, waiting for an operator
    TAKEN = "taken"  # an operator has it
    FILED = "filed"  # a case was filed from it (or an inquiry answered on the spot)
    ENDED = "ended"  # over with nothing to file (hung up, wrong number)


# move: (statuses it may start from, status it leads to)
CALL_STATES = StateTable(
    {
        "take": ({CallStatus.RINGING}, CallStatus.TAKEN),
        "file": ({CallStatus.TAKEN}, CallStatus.FILED),
        "end": ({CallStatus.TAKEN}, CallStatus.ENDED),
    }
)


class Call(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(sa.String(100), unique=True, comment="the phone system's id")
    caller: Mapped[str] = mapped_column(sa.String(20), comment="E.164, or as given when unparsable")
    line: Mapped[str] = mapped_column(sa.String(32), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[CallStatus] = mapped_column(
        enum_column(CallStatus, length=16),
        default=CallStatus.RINGING,
        comment="ringing, taken, filed, ended: see CALL_STATES",
    )
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"))

    taken_by = relationship("User")
    case = relationship("Case")
