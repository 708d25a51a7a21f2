"""A call announced by the phone system, and what the operator made of it."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.types import UTCDateTime, utcnow


class Call(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(sa.String(100), unique=True, comment="the phone system's id")
    caller: Mapped[str] = mapped_column(sa.String(20), comment="E.164, or as given when unparsable")
    line: Mapped[str] = mapped_column(sa.String(32), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ringing", comment="ringing, taken, filed")
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"))

    taken_by = relationship("User")
    case = relationship("Case")
