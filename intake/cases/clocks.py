"""Starting and stopping a case's clocks from the time-limit policies."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from intake.cases.models import Case, Clock
from intake.extensions import db
from intake.reference.models import CalendarDay, TimeLimitPolicy
from intake.types import utcnow
from routing.calendar import Overrides, WorkCalendar, end_of_day, to_local

# Clocks that only bound what staff may do (send a case back); they never warn or escalate.
WINDOWS = ("return",)


def work_calendar() -> WorkCalendar:
    """The working-day calendar with the days administrators entered."""
    days = db.session.execute(sa.select(CalendarDay.day, CalendarDay.working)).all()
    return WorkCalendar(
        Overrides(
            holidays=[d for d, working in days if not working],
            workdays=[d for d, working in days if working],
        )
    )


def find_policy(case: Case, clock: str) -> TimeLimitPolicy | None:
    """The most specific policy in force when the case was received."""
    rows = db.session.scalars(
        sa.select(TimeLimitPolicy).where(
            TimeLimitPolicy.clock == clock,
            TimeLimitPolicy.jurisdiction.in_([case.county_code or "*", "*"]),
            TimeLimitPolicy.case_kind.in_([case.kind.value, "*"]),
            TimeLimitPolicy.effective_from <= case.received_at,
        )
    ).all()

    def specificity(p: TimeLimitPolicy):
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
