"""One satisfaction callback per reply: asked by SMS or by an operator on the phone."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.statemachine import StateTable
from intake.types import UTCDateTime, enum_column, utcnow


class Answer(enum.Enum):
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    NO_RESPONSE = "no_response"  # no answer within the time allowed


class Review(enum.Enum):
    PENDING = "pending"  # 不满意: waiting for a supervisor
    REOPENED = "reopened"  # sent back for rework
    CONFIRMED = "confirmed"  # the reply stands; the case closes


# A callback's state is two columns. Its answer is given once (by SMS, by phone or by the clock
# running out), the move named by the answer: {"satisfied": (None, SATISFIED), …}.
CALLBACK_ANSWERS = StateTable({a.value: ({None}, a) for a in Answer}, attribute="answer")
# A 不满意 answer waits for a supervisor, who decides once.
CALLBACK_REVIEWS = StateTable(
    {
        "await_review": ({None}, Review.PENDING),
        "reopen": ({Review.PENDING}, Review.REOPENED),
        "confirm": ({Review.PENDING}, Review.CONFIRMED),
    },
    attribute="review",
)


class Callback(db.Model):
    __table_args__ = (sa.Index("ix_callback_open", "answer", "ask_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ask_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="the working day after the reply")
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="survey SMS queued")
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[Answer | None] = mapped_column(enum_column(Answer), comment="see CALLBACK_ANSWERS")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(sa.String(8), default="sms", comment="sms or phone")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    review: Mapped[Review | None] = mapped_column(enum_column(Review), index=True, comment="see CALLBACK_REVIEWS")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case = relationship("Case")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
