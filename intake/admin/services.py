"""Administrators' services: time-limit policies, the holiday calendar and the warnings about them.

The `flask sla due` and `flask calendar import` commands use the same functions as the pages.
"""

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import chinese_calendar
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from intake.accounts.models import Role, User
from intake.cases import kinds
from intake.cases.access import log_recipient_view
from intake.cases.clocks import work_calendar
from intake.cases.labels import CLOCK_LABELS
from intake.cases.models import Case, CaseStatus, Clock
from intake.extensions import db
from intake.reference.models import CalendarDay, Department, Division, DivisionLevel, TimeLimitPolicy, TimeUnit
from intake.sms.models import InboundSms
from intake.types import utcnow
from notify.models import Message
from routing.calendar import TZ, to_local

log = logging.getLogger(__name__)

# Clocks a policy may set: the case clocks, plus the extension allowed.
POLICY_CLOCK_LABELS = CLOCK_LABELS
KIND_LABELS = {"*": _l("全部"), **kinds.KIND_LABELS}
UNIT_LABELS = {
    TimeUnit.WORKING_DAYS.value: _l("工作日"),
    TimeUnit.CALENDAR_DAYS.value: _l("自然日"),
    TimeUnit.HOURS.value: _l("小时"),
}
AMOUNT_MIN, AMOUNT_MAX = 1, 365
WORKING_WORDS = {"1", "true", "yes", "是", "调休", "上班", "调休上班"}
HOLIDAY_WORDS = {"0", "false", "no", "否", "放假", "休息"}


class PolicyError(Exception):
    """A time limit that may not be saved; the message is for the administrator."""


class CalendarImportError(Exception):
    """Calendar text that cannot be imported; the message names the lines at fault."""


# --- time-limit policies -----------------------------------------------------------------------


@dataclass
class PolicyHistory:
    """The row in force for one jurisdiction/kind/urgency/clock, and the rows it replaced."""

    current: TimeLimitPolicy
    earlier: list[TimeLimitPolicy] = field(default_factory=list)


def policy_key(p: TimeLimitPolicy) -> tuple:
    return p.jurisdiction, p.case_kind, p.urgent, p.clock


def policies_in_force(at: datetime | None = None) -> list[PolicyHistory]:
    """The latest row per jurisdiction/kind/urgency/clock effective at `at` (now), clock by clock."""
    rows = db.session.scalars(
        sa.select(TimeLimitPolicy)
        .where(TimeLimitPolicy.effective_from <= (at or utcnow()))
        .order_by(TimeLimitPolicy.effective_from.desc(), TimeLimitPolicy.id.desc())
    ).all()
    by_key: dict[tuple, PolicyHistory] = {}
    for row in rows:
        if (history := by_key.get(policy_key(row))) is None:
            by_key[policy_key(row)] = PolicyHistory(row)
        else:
            history.earlier.append(row)
    clocks = list(POLICY_CLOCK_LABELS)
    kinds = list(KIND_LABELS)

    def order(h: PolicyHistory):
        p = h.current
        return (
            clocks.index(p.clock) if p.clock in clocks else len(clocks),
            p.jurisdiction != "*",
            p.jurisdiction,
            kinds.index(p.case_kind) if p.case_kind in kinds else len(kinds),
            p.urgent,
        )

    return sorted(by_key.values(), key=order)


def county_names() -> dict[str, str]:
    """County code → name, for the jurisdiction of a policy."""
    rows = db.session.execute(
        sa.select(Division.code, Division.name).where(Division.level == DivisionLevel.COUNTY).order_by(Division.code)
    ).all()
    return dict(rows)


def check_policy(jurisdiction: str, case_kind: str, urgent: bool, clock: str, amount: int, unit: str) -> None:
    """Raise PolicyError, in words for the administrator, if the time limit makes no sense."""
    if clock not in POLICY_CLOCK_LABELS:
        raise PolicyError(_("没有这种时限。"))
    if case_kind not in KIND_LABELS:
        raise PolicyError(_("没有这种案件类型。"))
    if jurisdiction != "*" and jurisdiction not in county_names():
        raise PolicyError(_("没有这个县（市、区）。"))
    if case_kind != "*" and clock not in kinds.clocks_of(case_kind):
        users = "、".join(str(label) for k, label in kinds.KIND_LABELS.items() if clock in kinds.clocks_of(k))
        raise PolicyError(_("“%(clock)s”只适用于%(kinds)s。", clock=POLICY_CLOCK_LABELS[clock], kinds=users))
    if unit not in UNIT_LABELS:
        raise PolicyError(_("请选择工作日、自然日或小时。"))
    if unit == TimeUnit.HOURS.value and not urgent:
        raise PolicyError(_("只有紧急件的时限可以按小时计算，其他时限请用工作日或自然日。"))
    if not isinstance(amount, int) or not AMOUNT_MIN <= amount <= AMOUNT_MAX:
        raise PolicyError(_("时限须为 %(min)s 到 %(max)s 之间的整数。", min=AMOUNT_MIN, max=AMOUNT_MAX))


def add_policy(
    jurisdiction: str, case_kind: str, urgent: bool, clock: str, amount: int, unit: str, note: str = "", actor=None
) -> TimeLimitPolicy:
    """Put a time limit in force from now on; cases received earlier keep the one they had."""
    check_policy(jurisdiction, case_kind, urgent, clock, amount, unit)
    # A new row, never an update: find_policy picks by received_at, so earlier cases keep theirs.
    row = TimeLimitPolicy(
        jurisdiction=jurisdiction,
        case_kind=case_kind,
        urgent=urgent,
        clock=clock,
        amount=amount,
        unit=TimeUnit(unit),
        note=note.strip(),
        effective_from=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    log.info("time limit %s set to %d %s by %s", policy_key(row), amount, unit, getattr(actor, "username", "?"))
    return row


def revise_policy(policy: TimeLimitPolicy, amount: int, unit: str, note: str = "", actor=None) -> TimeLimitPolicy:
    """Change a policy's length from now on, by adding a row for the same key."""
    return add_policy(policy.jurisdiction, policy.case_kind, policy.urgent, policy.clock, amount, unit, note, actor)


def count_policies_in_force() -> int:
    return len(policies_in_force())


# --- deadlines ---------------------------------------------------------------------------------


@dataclass
class Deadline:
    due: datetime
    missing_years: list[int]


def deadline(start: datetime, amount: int, unit: str) -> Deadline:
    """The deadline a policy of `amount` `unit`s would give from start, as clocks compute it."""
    calendar = work_calendar()
    due = calendar.due(start, amount, unit).astimezone(TZ)
    return Deadline(due, sorted(calendar.missing_years))


# --- the holiday calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    day: date
    working: bool
    note: str = ""


def parse_calendar(text: str) -> list[CalendarEntry]:
    """Read `day,working,note` lines (header optional; working 1 for a make-up working day)."""
    entries: dict[date, CalendarEntry] = {}
    problems: list[str] = []
    columns = ["day", "working", "note"]
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        if not line.strip():
            continue
        cells = [c.strip() for c in next(csv.reader([line]))]
        if "day" in (lowered := [c.lower() for c in cells]):
            columns = lowered
            continue
        row = dict(zip(columns, cells))
        try:
            entry = _calendar_entry(row)
        except CalendarImportError as exc:
            problems.append(_("第 %(n)d 行：%(problem)s", n=number, problem=str(exc)))
            continue
        if entries.get(entry.day, entry).working != entry.working:
            problems.append(_("第 %(n)d 行：%(day)s 前面已录为另一种。", n=number, day=entry.day.isoformat()))
        entries[entry.day] = entry
    if problems:
        raise CalendarImportError("；".join(problems[:10]) + ("……" if len(problems) > 10 else ""))
    if not entries:
        raise CalendarImportError(_("没有可录入的日期。每行写：日期,1 或 0,说明，例如 2027-02-06,0,春节。"))
    return sorted(entries.values(), key=lambda e: e.day)


def _calendar_entry(row: dict) -> CalendarEntry:
    raw_day, flag = row.get("day", ""), (row.get("working") or "").lower()
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise CalendarImportError(_("日期“%(day)s”应写成 2027-01-01 这样的格式。", day=raw_day)) from None
    if flag not in WORKING_WORDS | HOLIDAY_WORDS:
        raise CalendarImportError(_("第二列应为 0（放假）或 1（调休上班）。"))
    return calendar_entry(day, flag in WORKING_WORDS, row.get("note") or "")


def calendar_entry(day: date, working: bool, note: str = "") -> CalendarEntry:
    """A checked entry: a make-up working day falls on a weekend, and the note fits its column."""
    if working and day.weekday() < 5:
        # A weekday entered as worked is the usual sign of a swapped 0/1 column.
        raise CalendarImportError(_("%(day)s 不是周六或周日，调休上班日应在周末。", day=day.isoformat()))
    if len(note) > 64:
        raise CalendarImportError(_("说明不能超过 64 个字。"))
    return CalendarEntry(day, working, note.strip())


def save_calendar_days(entries: list[CalendarEntry]) -> int:
    """Enter or replace these days; clocks started afterwards count with them."""
    for entry in entries:
        row = db.session.get(CalendarDay, entry.day) or CalendarDay(day=entry.day)
        row.working, row.note = entry.working, entry.note
        db.session.add(row)
    db.session.flush()
    # No cache to clear: intake.cases.clocks.work_calendar reads CalendarDay for every clock it starts.
    return len(entries)


def import_calendar(text: str) -> int:
    """Parse and save a pasted or uploaded schedule: all of it, or nothing on an error."""
    return save_calendar_days(parse_calendar(text))


def delete_calendar_day(day: date) -> bool:
    row = db.session.get(CalendarDay, day)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def calendar_days_by_year() -> dict[int, list[CalendarDay]]:
    days = db.session.scalars(sa.select(CalendarDay).order_by(CalendarDay.day)).all()
    years: dict[int, list[CalendarDay]] = {}
    for d in days:
        years.setdefault(d.day.year, []).append(d)
    return years


def package_covers(year: int) -> bool:
    """True if chinesecalendar has the State Council's schedule for that year; never raises."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except (NotImplementedError, ValueError, OverflowError):
        return False
    return True


@dataclass
class YearStatus:
    year: int
    covered: bool  # by chinesecalendar
    entered: int  # days administrators entered

    @property
    def missing(self) -> bool:
        return not self.covered and not self.entered


def year_statuses(years) -> list[YearStatus]:
    counts = dict(
        db.session.execute(
            sa.select(sa.extract("year", CalendarDay.day), sa.func.count()).group_by(
                sa.extract("year", CalendarDay.day)
            )
        ).all()
    )
    counts = {int(y): n for y, n in counts.items()}
    return [YearStatus(y, package_covers(y), counts.get(y, 0)) for y in sorted(set(years))]


# --- the dashboard -----------------------------------------------------------------------------


def years_to_check(now: datetime | None = None) -> list[int]:
    """This year, next year, and every year up to the latest due date of a running clock."""
    this_year = to_local(now or utcnow()).year
    latest = db.session.scalar(sa.select(sa.func.max(Clock.due_at)).where(Clock.stopped_at.is_(None)))
    last = max(this_year + 1, to_local(latest).year if latest else this_year)
    return list(range(this_year, last + 1))


def missing_years(now: datetime | None = None) -> list[int]:
    """Years a deadline may fall in whose holiday schedule nobody has: weekends only there."""
    return [s.year for s in year_statuses(years_to_check(now)) if s.missing]


def dashboard_counts() -> dict[str, int]:
    running = sa.select(sa.func.count()).select_from(Clock).where(Clock.stopped_at.is_(None))
    return {
        "open_cases": db.session.scalar(
            sa.select(sa.func.count()).select_from(Case).where(Case.status != CaseStatus.CLOSED)
        ),
        "overdue_clocks": db.session.scalar(running.where(Clock.due_at < utcnow())),
        "weekend_only_clocks": db.session.scalar(running.where(Clock.calendar_warning != "")),
        "policies_in_force": count_policies_in_force(),
        "calendar_days": db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)),
    }


@dataclass
class UnreachableUnit:
    kind: str  # "department" or "township"
    key: str  # the department's id or the township's code
    name: str
    open_cases: int


def _reachable(*where) -> sa.Exists:
    return (
        sa.select(User.id)
        .where(User.active.is_(True), User.on_duty.is_(True), sa.or_(User.phone != "", User.email != ""), *where)
        .exists()
    )


def unreachable_units() -> list[UnreachableUnit]:
    """Departments and townships with open cases routed to them whose duty messages reach nobody:
    no active, on-duty user of theirs has a phone or an email."""
    is_open = Case.status != CaseStatus.CLOSED
    departments = db.session.execute(
        sa.select(Department.id, Department.name, sa.func.count(Case.id))
        .join(Case, Case.lead_department_id == Department.id)
        .where(is_open, ~_reachable(User.role == Role.DEPARTMENT, User.department_id == Department.id))
        .group_by(Department.id, Department.name)
        .order_by(Department.id)
    ).all()
    townships = db.session.execute(
        sa.select(Division.code, Division.name, sa.func.count(Case.id))
        .join(Case, Case.township_code == Division.code)
        .where(is_open, ~_reachable(User.role == Role.TOWNSHIP, User.township_code == Division.code))
        .group_by(Division.code, Division.name)
        .order_by(Division.code)
    ).all()
    return [UnreachableUnit("department", str(i), name, n) for i, name, n in departments] + [
        UnreachableUnit("township", code, name, n) for code, name, n in townships
    ]


# --- the message log: numbers masked, each unmasking logged -----------------------------------------


def reveal_recipient(user: User, message_id: int):
    """The message, its recipient's look logged (None if there is no such message)."""
    message = db.session.get(Message, message_id)
    if message is not None:
        log_recipient_view(user, message)
    return message


# --- SMS the webhook could not read ----------------------------------------------------------------

UNREADABLE_PAGE = 100
_LONG_NUMBER = re.compile(r"\d{7,}")


def unreadable_sms(limit: int = UNREADABLE_PAGE) -> list[InboundSms]:
    """The signed messages stored as unreadable (intake/sms/services.py store_unreadable), newest first."""
    return db.session.scalars(
        sa.select(InboundSms).filter_by(outcome="unreadable").order_by(InboundSms.id.desc()).limit(limit)
    ).all()


def masked_numbers(text: str) -> str:
    """The raw body as the page shows it: a phone number in it is 138****5678, as in the message log."""
    return _LONG_NUMBER.sub(lambda m: f"{m.group()[:3]}****{m.group()[-4:]}", text)
