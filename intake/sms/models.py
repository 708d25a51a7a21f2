"""Every inbound SMS is kept: the gateway's id makes a replay change nothing."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.types import UTCDateTime, utcnow


class InboundSms(db.Model):
    __table_args__ = (sa.Index("ix_inbound_sms_sender_received", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(100), unique=True, comment="the gateway's id")
    sender: Mapped[str] = mapped_column(sa.String(20), comment="E.164")
    recipient: Mapped[str] = mapped_column(sa.String(32), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    concat_ref: Mapped[str] = mapped_column(sa.String(32), default="", comment="parts of one long message share it")
    part_no: Mapped[int] = mapped_column(default=1)
    part_count: Mapped[int] = mapped_column(default=1)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(
        sa.String(32), default="", comment="new_case, added, query, survey, opt_out, part …"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case")
