"""Every outbound message is a row: what, to whom, and what became of it."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from intake.extensions import db
from intake.statemachine import StateTable
from intake.types import UTCDateTime, enum_column, utcnow


class MessageStatus(enum.Enum):
    QUEUED = "queued"  # waiting for its job (held for quiet hours: not_before); retries stay here
    SENT = "sent"
    FAILED = "failed"  # the gateway refused it and the retries ran out
    SUPPRESSED = "suppressed"  # not sent: the number opted out (TD) or reached its daily cap


# move: (statuses it may start from, status it leads to); only a queued message goes anywhere
MESSAGE_STATES = StateTable(
    {
        "suppress": ({MessageStatus.QUEUED}, MessageStatus.SUPPRESSED),
        "send": ({MessageStatus.QUEUED}, MessageStatus.SENT),
        "fail": ({MessageStatus.QUEUED}, MessageStatus.FAILED),
    }
)


class Message(db.Model):
    """One SMS or mail; the idempotency key makes a retry or a second worker send it once."""

    __table_args__ = (
        # the sweep for lost send jobs reads only what is still queued
        sa.Index(
            "ix_message_queued",
            "created_at",
            postgresql_where=sa.text("status = 'queued'"),
            sqlite_where=sa.text("status = 'queued'"),
        ),
        # every SMS a citizen's filing queues counts that number's SMS of the day (the daily caps,
        # notify.services.sms_today): without it each filing read the whole message table
        sa.Index("ix_message_recipient", "recipient", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(8), comment="sms or mail")
    recipient: Mapped[str] = mapped_column(sa.String(200))
    template: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus),
        default=MessageStatus.QUEUED,
        comment="queued, sent, failed, suppressed: see MESSAGE_STATES",
    )
    attempts: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    gateway_id: Mapped[str] = mapped_column(sa.String(200), default="")
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urgent: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), comment="sent even in quiet hours")
    essential: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true(), comment="sent even to a number that replied TD"
    )
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="held for quiet hours")
    sealed_secret: Mapped[str | None] = mapped_column(
        sa.Text, comment="the masked values (a lookup code), encrypted (notify/sealing.py); cleared once sent"
    )


class MessageTemplate(db.Model):
    """A message's wording, edited by administrators; seeded from notify/templates.csv."""

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(8), default="sms")
    text: Mapped[str] = mapped_column(sa.Text)
    essential: Mapped[bool] = mapped_column(default=True, comment="false: stopped by TD")
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))


class SmsOptOut(db.Model):
    """A number that replied TD: it gets only essential messages."""

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True, comment="E.164")
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
