"""Reference data tables, loaded by `flask seed` and edited by administrators."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.types import UTCDateTime, enum_column, utcnow


class DivisionLevel(enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Division(db.Model):
    """An NBS statistical division (省/市/县/乡镇街道/村社区)."""

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[DivisionLevel] = mapped_column(enum_column(DivisionLevel), index=True)
    parent_code: Mapped[str | None] = mapped_column(sa.String(12), sa.ForeignKey("division.code"), index=True)
    kind: Mapped[str | None] = mapped_column(sa.String(16), comment="街道/镇/乡/村/社区 …")
    aliases: Mapped[list] = mapped_column(sa.JSON, default=list, comment="other names people use")

    parent = relationship("Division", remote_side=[code])


class Industry(db.Model):
    """One of the ten small industries, or 'other'."""

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    english: Mapped[str] = mapped_column(sa.String(128), default="")
    position: Mapped[int] = mapped_column(default=0)


class IndustryTerm(db.Model):
    """A word that points to an industry, with its weight; the classifier's vocabulary."""

    __table_args__ = (sa.UniqueConstraint("term", "industry_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(64))
    industry_code: Mapped[str] = mapped_column(sa.ForeignKey("industry.code"))
    weight: Mapped[float] = mapped_column(default=1.0)
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class SmsKeyword(db.Model):
    """A word that tells what an inbound SMS is: a tip, inquiry or suggestion, or an emergency.

    Seeded from the kind registry (intake.cases.kinds) and emergency_words.csv; administered at
    /admin/reference/sms-words. A word has one meaning, so no word is both a kind's and an emergency's.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(32), unique=True)
    meaning: Mapped[str] = mapped_column(sa.String(16), comment="tip, inquiry, suggestion or emergency")


class Department(db.Model):
    """A county-level department of one kind (市场监督管理局, 农业农村局 …)."""

    __table_args__ = (sa.UniqueConstraint("county_code", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.ForeignKey("division.code"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), comment="market, agriculture, culture …")
    name: Mapped[str] = mapped_column(sa.String(64))

    county = relationship(Division)


class RoutingRule(db.Model):
    """Industry → lead department kind and co-handlers, per county ('*' for every county)."""

    __table_args__ = (sa.UniqueConstraint("county_code", "industry_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.String(12), comment="a county code or '*'")
    industry_code: Mapped[str] = mapped_column(sa.ForeignKey("industry.code"))
    lead_kind: Mapped[str] = mapped_column(sa.String(32))
    co_handler_kinds: Mapped[list] = mapped_column(sa.JSON, default=list)


class TimeUnit(enum.Enum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"


class TimeLimitPolicy(db.Model):
    """How long a clock runs, per jurisdiction, case kind and urgency; edited by administrators."""

    __table_args__ = (sa.UniqueConstraint("jurisdiction", "case_kind", "urgent", "clock", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(sa.String(12), comment="a county code or '*'")
    case_kind: Mapped[str] = mapped_column(sa.String(16), comment="complaint/tip/inquiry/suggestion or '*'")
    urgent: Mapped[bool] = mapped_column(default=False)
    clock: Mapped[str] = mapped_column(sa.String(16), comment="triage, sign, return, decision …")
    amount: Mapped[int]
    unit: Mapped[TimeUnit] = mapped_column(enum_column(TimeUnit))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class CalendarDay(db.Model):
    """An administrator-entered holiday or make-up working day, for years chinesecalendar lacks."""

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    working: Mapped[bool] = mapped_column(comment="true for a make-up working day (调休)")
    note: Mapped[str] = mapped_column(sa.String(64), default="")


class ReferenceChange(db.Model):
    """One change an administrator (or a command) made to reference data: who, when, before, after.

    `flask seed` consults these rows: a row whose key was changed or deleted here is never re-added.
    """

    __tablename__ = "reference_change"
    __table_args__ = (sa.Index("ix_reference_change_table_key", "table", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), comment="null: a command (命令行)")
    table: Mapped[str] = mapped_column(sa.String(32), comment="department, routing_rule, industry_term, division")
    key: Mapped[str] = mapped_column(sa.String(128), comment="the row's natural key, parts joined by |")
    before: Mapped[dict | None] = mapped_column(sa.JSON, comment="null: the row was added")
    after: Mapped[dict | None] = mapped_column(sa.JSON, comment="null: the row was deleted")
