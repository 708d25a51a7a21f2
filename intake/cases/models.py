"""A case, its events, its clocks and the log of looks at personal data."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.cases.kinds import CaseKind, Identity, kind_of
from intake.extensions import db
from intake.statemachine import StateTable
from intake.types import UTCDateTime, enum_column, utcnow


class Channel(enum.Enum):
    WEB = "web"
    API = "api"
    HOTLINE = "hotline"
    SMS = "sms"


# channels anyone can use with any phone number: what they make us send is capped per number
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.API, Channel.SMS})


class CaseStatus(enum.Enum):
    RECEIVED = "received"  # stored, waiting for the router
    TRIAGE = "triage"  # waiting for a dispatcher
    DISPATCHED = "dispatched"  # sent to the lead department and township
    SIGNED = "signed"  # the department signed for it (签收)
    REPLIED = "replied"  # result recorded (办结)
    REOPENED = "reopened"  # sent back for rework (重办)
    CLOSED = "closed"


OPEN_STATUSES = frozenset(s for s in CaseStatus if s is not CaseStatus.CLOSED)

case_co_handler = sa.Table(
    "case_co_handler",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("department_id", sa.ForeignKey("department.id"), primary_key=True),
)


class Case(db.Model):
    """A complaint, tip, inquiry or suggestion from a citizen."""

    __table_args__ = (
        sa.Index("ix_case_queue", "lead_department_id", "status"),
        sa.Index(
            "ix_case_problem",
            "problem_at",
            postgresql_where=sa.text("problem_at IS NOT NULL"),
            sqlite_where=sa.text("problem_at IS NOT NULL"),
        ),
        sa.Index("ix_case_township_queue", "township_code", "status"),
        sa.Index("ix_case_status_received", "status", "received_at"),
        sa.Index(
            "ix_case_receipt_pending",
            "received_at",
            postgresql_where=sa.text("sealed_receipt IS NOT NULL"),
            sqlite_where=sa.text("sealed_receipt IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(sa.String(16), unique=True)
    lookup_code_hash: Mapped[str] = mapped_column(sa.String(128))
    sealed_receipt: Mapped[str | None] = mapped_column(
        sa.Text,
        comment="the receipt SMS still to be made (template and lookup code), encrypted (notify/sealing.py); "
        "cleared by notify.tasks.send_receipt",
    )
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    status: Mapped[CaseStatus] = mapped_column(
        enum_column(CaseStatus), default=CaseStatus.RECEIVED, comment="see intake.cases.workflow"
    )
    urgent: Mapped[bool] = mapped_column(default=False)

    business_name: Mapped[str] = mapped_column(sa.String(200), default="")
    business_address: Mapped[str] = mapped_column(sa.String(300), default="")
    # where a machine filer (Open311) says it is, WGS84; kept and shown, never routed by (no boundaries)
    lat: Mapped[float | None] = mapped_column(sa.Float, comment="latitude, WGS84 (Open311 lat)")
    long: Mapped[float | None] = mapped_column(sa.Float, comment="longitude, WGS84 (Open311 long)")
    description: Mapped[str] = mapped_column(sa.Text)
    industry_code: Mapped[str | None] = mapped_column(sa.ForeignKey("industry.code"))
    industry_hint: Mapped[str | None] = mapped_column(sa.String(32), comment="industry the submitter chose, if any")

    complainant_name: Mapped[str] = mapped_column(sa.String(64), default="")
    complainant_phone: Mapped[str] = mapped_column(sa.String(20), default="", comment="E.164")
    anonymous: Mapped[bool] = mapped_column(default=False)
    disclose_identity: Mapped[bool] = mapped_column(
        default=False, comment="a tipper allows departments to see who they are"
    )

    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    township_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    village_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    lead_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    routing: Mapped[dict | None] = mapped_column(
        sa.JSON, comment="the router's decision: confidence, reasons, candidates"
    )

    result: Mapped[str | None] = mapped_column(sa.String(32))
    reply_text: Mapped[str] = mapped_column(sa.Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"))
    business_id: Mapped[int | None] = mapped_column(sa.ForeignKey("business.id"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("case.id"), comment="an open case this one probably repeats (重复件)"
    )

    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="a complaint accepted for mediation (受理)"
    )
    escalated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="first put on the supervisor's list (督办)"
    )
    details_requested_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="an SMS case asked for where or what; the next SMS within 24 h is added"
    )
    problem_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="escalated as a problem case: returned or reopened three times"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    industry = relationship("Industry")
    county = relationship("Division", foreign_keys=[county_code])
    township = relationship("Division", foreign_keys=[township_code])
    village = relationship("Division", foreign_keys=[village_code])
    lead_department = relationship("Department")
    business = relationship("Business", back_populates="cases")
    duplicate_of = relationship("Case", remote_side=[id], foreign_keys=[duplicate_of_id])
    merged_into = relationship("Case", remote_side=[id], foreign_keys=[merged_into_id])
    co_handlers = relationship("Department", secondary=case_co_handler)
    events = relationship("CaseEvent", back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan")
    clocks = relationship("Clock", back_populates="case", order_by="Clock.id")

    @property
    def merged_cases(self) -> list["Case"]:
        """The duplicates merged into this case: their complainants follow it (reply, survey)."""
        if self.id is None:
            return []
        return list(db.session.scalars(sa.select(Case).filter_by(merged_into_id=self.id).order_by(Case.id)))

    @property
    def identity_hidden(self) -> bool:
        """A tipper's identity stays with the system unless they allowed disclosure."""
        confidential = kind_of(self.kind).identity is Identity.MAY_BE_ANONYMOUS
        return self.anonymous or (confidential and not self.disclose_identity)

    def running_clock(self, name: str) -> "Clock | None":
        return next((c for c in self.clocks if c.name == name and c.stopped_at is None), None)


class CaseEvent(db.Model):
    """Every change to a case: who, when, from, to, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(64), comment="who, as shown in the history")
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    public: Mapped[bool] = mapped_column(default=True, comment="shown to the citizen")
    data: Mapped[dict | None] = mapped_column(sa.JSON)

    case = relationship(Case, back_populates="events")
    actor = relationship("User")


class Clock(db.Model):
    """A running or finished time limit on a case (sign-for, decision, …)."""

    __table_args__ = (
        # The sweep reads only clocks still to warn or escalate: partial indexes keep its cost
        # proportional to the clocks coming due, not to every clock ever run.
        sa.Index(
            "ix_clock_to_escalate",
            "due_at",
            postgresql_where=sa.text("stopped_at IS NULL AND escalated_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL AND escalated_at IS NULL"),
        ),
        sa.Index(
            "ix_clock_to_warn",
            "amber_at",
            postgresql_where=sa.text("stopped_at IS NULL AND warned_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL AND warned_at IS NULL"),
        ),
        # the supervisor's overdue list, in its own order (red first, then by due time)
        sa.Index(
            "ix_clock_flagged",
            sa.text("(escalated_at IS NULL)"),
            "due_at",
            postgresql_where=sa.text("stopped_at IS NULL AND warned_at IS NOT NULL"),
            sqlite_where=sa.text("stopped_at IS NULL AND warned_at IS NOT NULL"),
        ),
        sa.Index("ix_clock_running_due", "stopped_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amber_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="a quarter of the time or one working day left, whichever is later"
    )
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="amber warning sent")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="red: put on 督办")
    met: Mapped[bool | None] = mapped_column(comment="stopped by the due time; null while running")
    policy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("time_limit_policy.id"))
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id"), comment="who held the clock when it started; null for dispatchers"
    )
    calendar_warning: Mapped[str] = mapped_column(
        sa.String(200), default="", comment="set when a year's holiday schedule was missing"
    )

    case = relationship(Case, back_populates="clocks")
    department = relationship("Department")
    extensions = relationship("Extension", back_populates="clock", order_by="Extension.id")


class ExtensionStatus(enum.Enum):
    PENDING = "pending"  # waiting for a supervisor
    APPROVED = "approved"  # the deadline moved
    REFUSED = "refused"


# move: (statuses it may start from, status it leads to); a decision is final
EXTENSION_STATES = StateTable(
    {
        "approve": ({ExtensionStatus.PENDING}, ExtensionStatus.APPROVED),
        "refuse": ({ExtensionStatus.PENDING}, ExtensionStatus.REFUSED),
    }
)


class Extension(db.Model):
    """A department's request for more time on a clock, and the supervisor's decision (延期)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    clock_id: Mapped[int] = mapped_column(sa.ForeignKey("clock.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(sa.Text)
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(sa.String(16), comment="working_days, calendar_days or hours")
    status: Mapped[ExtensionStatus] = mapped_column(
        enum_column(ExtensionStatus),
        default=ExtensionStatus.PENDING,
        index=True,
        comment="pending, approved, refused: see EXTENSION_STATES",
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    old_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case = relationship(Case)
    clock = relationship(Clock, back_populates="extensions")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class PersonalDataAccess(db.Model):
    """Every look at a citizen's personal data by staff: a case's identity, or a message's recipient."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purpose: Mapped[str] = mapped_column(sa.String(64))
