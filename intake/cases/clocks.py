"""Starting and stopping a case's clocks from the time-limit policies."""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa

from intake.cases.models import Case, Clock
from intake.extensions import db
from intake.reference.cache import cached, watch
from intake.reference.models import CalendarDay, TimeLimitPolicy, TimeUnit
from intake.types import utcnow
from routing.calendar import Overrides, WorkCalendar, end_of_day, to_local

# Clocks that only bound what staff may do (send a case back); they never warn or escalate.
WINDOWS = ("return",)
watch("calendar_day", "time_limit_policy")  # read through the per-process cache below


def work_calendar() -> WorkCalendar:
    """The working-day calendar with the days administrators entered (read once per process and
    kept until calendar_day changes: intake.reference.cache)."""
    return WorkCalendar(_overrides())


def _overrides() -> Overrides:
    def read() -> Overrides:
        days = db.session.execute(sa.select(CalendarDay.day, CalendarDay.working)).all()
        return Overrides(
            holidays=[d for d, working in days if not working],
            workdays=[d for d, working in days if working],
        )

    return cached("calendar_days", ("calendar_day",), read)


@dataclass(frozen=True)
class Policy:
    """A row of time_limit_policy as plain data (what the per-process cache keeps)."""

    id: int
    jurisdiction: str
    case_kind: str
    urgent: bool
    clock: str
    amount: int
    unit: TimeUnit
    effective_from: datetime


def _policies() -> dict[str, tuple[Policy, ...]]:
    """Every time-limit policy by clock, cached per process until time_limit_policy changes."""

    def read() -> dict[str, tuple[Policy, ...]]:
        columns = [getattr(TimeLimitPolicy, f.name) for f in fields(Policy)]
        by_clock: dict[str, list[Policy]] = {}
        for row in db.session.execute(sa.select(*columns).order_by(TimeLimitPolicy.id)):
            policy = Policy(*row)
            by_clock.setdefault(policy.clock, []).append(policy)
        return {clock: tuple(rows) for clock, rows in by_clock.items()}

    return cached("time_limit_policies", ("time_limit_policy",), read)


def find_policy(case: Case, clock: str) -> Policy | None:
    """The most specific policy in force when the case was received."""
    if case.received_at is None:  # a case not yet flushed gets its receipt time from its insert
        db.session.flush()
    received = case.received_at
    jurisdictions = {case.county_code or "*", "*"}
    kinds = {case.kind.value, "*"}
    rows = [
        p
        for p in _policies().get(clock, ())
        if p.jurisdiction in jurisdictions and p.case_kind in kinds and p.effective_from <= received
    ]

    def specificity(p: Policy):
        return (p.urgent == case.urgent, p.jurisdiction != "*", p.case_kind != "*", p.effective_from)

    candidates = [p for p in rows if p.urgent == case.urgent or not p.urgent]
    return max(candidates, key=specificity, default=None)


def start_clock(case: Case, name: str, start: datetime | None = None) -> Clock | None:
    """Start a clock on the case by its policy; None when no policy covers it."""
    policy = find_policy(case, name)
    if policy is None:
        return None
    start = start or utcnow()
    calendar = work_calendar()
    due = calendar.due(start, policy.amount, policy.unit.value)
    clock = Clock(
        case=case,
        name=name,
        started_at=start,
        due_at=due,
        policy_id=policy.id,
        department_id=None if name == "triage" else getattr(case.lead_department, "id", None),
        amber_at=None if name in WINDOWS else amber_time(calendar, start, due, policy.unit.value),
        calendar_warning=calendar_warning(calendar),
    )
    db.session.add(clock)
    return clock


def calendar_warning(calendar: WorkCalendar) -> str:
    """Said on a clock whose deadline crossed a year with no holiday schedule entered."""
    if not calendar.missing_years:
        return ""
    years = "、".join(str(y) for y in sorted(calendar.missing_years))
    return f"{years}年法定节假日安排未录入，期限仅按周末推算"


def amber_time(calendar: WorkCalendar, start: datetime, due: datetime, unit: str) -> datetime:
    """When a clock turns amber: a quarter of its time or one working day left, whichever is later."""
    quarter_left = due - (due - start) / 4
    if unit == "working_days":
        last_day = to_local(due).date()
        previous = last_day - timedelta(days=1)
        while not calendar.is_working_day(previous):
            previous -= timedelta(days=1)
        one_day_left = end_of_day(previous)
    elif unit == "calendar_days":
        one_day_left = due - timedelta(days=1)
    else:
        one_day_left = quarter_left
    return max(quarter_left, min(one_day_left, due))


def extend_clock(clock: Clock, amount: int, unit: str, now: datetime | None = None) -> datetime:
    """Move a clock's due time on by an approved extension; its warnings start afresh if it is no longer late."""
    now = now or utcnow()
    calendar = work_calendar()
    old_due = clock.due_at
    clock.due_at = calendar.due(old_due, amount, unit)
    clock.amber_at = amber_time(calendar, old_due, clock.due_at, unit)
    clock.calendar_warning = calendar_warning(calendar) or clock.calendar_warning
    if clock.due_at > now:
        clock.escalated_at = None
        if clock.amber_at > now:
            clock.warned_at = None
    return clock.due_at


def stop_clocks(case: Case, *names: str, at: datetime | None = None) -> None:
    """Stop the running clocks of these names, or every running clock when none are named."""
    for clock in list(case.clocks):
        if clock.stopped_at is None and (not names or clock.name in names):
            stop_clock(case, clock.name, at)


def stop_clock(case: Case, name: str, at: datetime | None = None) -> Clock | None:
    """Stop the running clock of that name, recording whether it was met."""
    clock = case.running_clock(name)
    if clock is None:
        return None
    clock.stopped_at = at or utcnow()
    clock.met = clock.stopped_at <= clock.due_at
    return clock
