"""The periodic clock sweep: amber warnings and red escalations (督办), each once per clock."""

import json
import logging
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app
from redis.exceptions import RedisError

from intake.cases.clocks import WINDOWS
from intake.cases.labels import CLOCK_LABELS
from intake.cases.models import Case, CaseEvent, CaseStatus, Clock
from intake.cases.workflow import SYSTEM
from intake.extensions import db
from intake.filters import local_time
from intake.jobcontext import in_app_context
from intake.jobs import enqueue_after_commit
from intake.redis_conn import get_redis
from intake.reference.models import Department, Division
from intake.sweeplog import records_run
from intake.transaction import transactional
from intake.types import utcnow
from notify.services import tell_staff

log = logging.getLogger(__name__)
# Clocks the platform's own staff answer for, not the department.
PLATFORM_DUTIES = ("triage", "callback")
LEVELS = {  # event action: (template, what the event says)
    "warn_amber": ("clock_amber", "将于 %s 到期"),
    "escalate": ("clock_red", "已于 %s 超期，列入督办"),
}
TELL_BATCH = 50  # events per notification job


@in_app_context
@records_run
def sweep_clocks(now: datetime | None = None) -> dict[str, int]:
    """Warn the clocks that turned amber and escalate those that ran out; a rerun finds nothing new.

    The sweep claims, records and escalates in a few set-wise statements, in one transaction, so
    its time follows the number of clocks coming due, not the number of cases; telling the staff
    (a query and messages per clock) is left to jobs enqueued after the commit, which any number
    of workers share. The cached counts are marked stale only once that transaction is committed.
    """
    counts, events = transactional(_sweep_clocks)(now or utcnow())
    if events:
        _new_generation()
    return counts


def _sweep_clocks(now: datetime) -> tuple[dict[str, int], list[int]]:
    closed = _close_windows(now)
    red = _claim(Clock.escalated_at, Clock.due_at <= now, now, also_warned=True)
    amber = _claim(Clock.warned_at, sa.and_(Clock.amber_at <= now, Clock.due_at > now), now)
    events = _record("warn_amber", amber, now) + _record("escalate", red, now)
    if red:
        db.session.execute(
            sa.update(Case)
            .where(Case.id.in_({row.case_id for row in red}), Case.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
    for start in range(0, len(events), TELL_BATCH):
        enqueue_after_commit(tell_about_clocks, events[start : start + TELL_BATCH])
    return {"amber": len(amber), "red": len(red), "windows_closed": closed}, events


def _close_windows(now: datetime) -> int:
    """A window (the return window) that passed is simply over: nobody is late."""
    stmt = (
        sa.update(Clock)
        .where(Clock.stopped_at.is_(None), Clock.escalated_at.is_(None), Clock.name.in_(WINDOWS), Clock.due_at <= now)
        .values(stopped_at=Clock.due_at, met=True)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount


def _claim(column, due, now: datetime, also_warned: bool = False) -> list:
    """Mark the level as reached in one UPDATE; concurrent sweeps cannot both claim a clock."""
    values = {column.key: now}
    if also_warned:  # a clock found already red (a worker was down) needs no amber warning after
        values["warned_at"] = sa.func.coalesce(Clock.warned_at, now)
    stmt = (
        sa.update(Clock)
        .where(Clock.stopped_at.is_(None), column.is_(None), due, Clock.name.not_in(WINDOWS))
        .values(values)
        .returning(Clock.id, Clock.case_id, Clock.name, Clock.due_at)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.execute(stmt))


def _record(action: str, clocks: list, now: datetime) -> list[int]:
    """One event per claimed clock, inserted in one statement; returns their ids."""
    if not clocks:
        return []
    what = LEVELS[action][1]
    rows = [
        {
            "case_id": c.case_id,
            "at": now,
            "actor_label": SYSTEM,
            "action": action,
            "reason": f"{CLOCK_LABELS.get(c.name, c.name)}{what % local_time(c.due_at)}",
            "public": False,
            "data": {"clock": c.name, "clock_id": c.id},
        }
        for c in clocks
    ]
    return list(db.session.scalars(sa.insert(CaseEvent).returning(CaseEvent.id, sort_by_parameter_order=True), rows))


@in_app_context
def tell_about_clocks(event_ids: list[int]) -> int:
    """Tell the staff on duty of each warning or escalation; a rerun sends nothing twice
    (each message's idempotency key names the event)."""
    events = db.session.scalars(sa.select(CaseEvent).where(CaseEvent.id.in_(event_ids))).all()
    for event in events:
        name = event.data["clock"]
        clock = db.session.get(Clock, event.data["clock_id"])
        template = LEVELS[event.action][0]
        tell_staff(
            event.case,
            template,
            event,
            platform=name in PLATFORM_DUTIES,
            clock=str(CLOCK_LABELS.get(name, name)),
            due=local_time(clock.due_at),
        )
    return len(events)


def _flagged(county_code: str | None):
    """Running duty clocks that turned amber or red (a red clock is always marked warned too)."""
    query = (
        sa.select(Clock)
        .join(Case)
        .where(Clock.stopped_at.is_(None), Clock.warned_at.is_not(None), Clock.name.not_in(WINDOWS))
    )
    return query.where(Case.county_code == county_code) if county_code else query


def overdue_clocks(
    county_code: str | None = None, department_id: int | None = None, township_code: str | None = None, limit: int = 200
) -> list[Clock]:
    """Running clocks on the supervisor's list: escalated (red) first, then amber, by due time."""
    query = _flagged(county_code)
    if department_id:
        query = query.where(Clock.department_id == department_id)
    if township_code:
        query = query.where(Case.township_code == township_code)
    query = query.order_by(Clock.escalated_at.is_(None), Clock.due_at).limit(limit)
    return list(
        db.session.scalars(
            query.options(
                sa.orm.contains_eager(Clock.case).options(
                    sa.orm.load_only(
                        Case.id, Case.tracking_no, Case.problem_at, Case.township_code, Case.lead_department_id
                    ),
                    sa.orm.joinedload(Case.township),
                    sa.orm.joinedload(Case.lead_department),
                ),
                sa.orm.joinedload(Clock.department),
            )
        )
    )


SUMMARY_GENERATION = "intake:clock-sweep-generation"


def cached_overdue_summary(county_code: str | None = None) -> dict[str, list]:
    """The summary as of the last sweep that changed it (or at most one sweep interval old).

    The counts change when a sweep warns or escalates (it bumps the generation in the key) and
    when a clock stops; the list below them is always live. Without Redis, computed each time.
    """
    interval = current_app.config["CLOCK_SWEEP_INTERVAL"]
    try:
        redis = get_redis()
        key = f"intake:overdue-summary:{int(redis.get(SUMMARY_GENERATION) or 0)}:{county_code or '*'}"
        hit = redis.get(key)
        if hit is not None:
            return json.loads(hit)
    except RedisError:
        return overdue_summary(county_code)
    summary = overdue_summary(county_code)
    try:
        redis.set(key, json.dumps(summary, ensure_ascii=False), ex=interval)
    except RedisError:
        pass
    return summary


def _new_generation() -> None:
    try:
        get_redis().incr(SUMMARY_GENERATION)
    except RedisError:  # the cached counts then live out their short expiry
        log.warning("could not mark the overdue summary stale", exc_info=True)


def overdue_summary(county_code: str | None = None) -> dict[str, list]:
    """Red and amber counts by department and by township, worst first: one pass over the flagged clocks."""
    red = sa.func.count().filter(Clock.escalated_at.is_not(None))
    amber = sa.func.count().filter(Clock.escalated_at.is_(None))
    rows = db.session.execute(
        _flagged(county_code)
        .with_only_columns(Clock.department_id, Case.township_code, red, amber)
        .group_by(Clock.department_id, Case.township_code)
    ).all()
    by_department: dict = {}
    by_township: dict = {}
    for department_id, township, r, a in rows:
        for table, key in ((by_department, department_id), (by_township, township)):
            old = table.get(key, (0, 0))
            table[key] = (old[0] + r, old[1] + a)
    departments = dict(
        db.session.execute(
            sa.select(Department.id, Department.name).where(
                Department.id.in_([k for k in by_department if k is not None])
            )
        ).all()
    )
    townships = dict(
        db.session.execute(
            sa.select(Division.code, Division.name).where(Division.code.in_([k for k in by_township if k is not None]))
        ).all()
    )

    def worst(row):
        return -row[2], -row[3]

    return {
        "department": sorted(
            ((k if k in departments else None, departments.get(k), r, a) for k, (r, a) in by_department.items()),
            key=worst,
        ),
        "township": sorted(
            ((k if k in townships else None, townships.get(k), r, a) for k, (r, a) in by_township.items()), key=worst
        ),
    }


def problem_cases(county_code: str | None = None) -> list[Case]:
    """Open cases escalated as problem cases (returned or reopened three times)."""
    query = (
        sa.select(Case)
        .where(Case.problem_at.is_not(None), Case.status != CaseStatus.CLOSED)
        .options(sa.orm.load_only(Case.id, Case.tracking_no, Case.business_name, Case.status, Case.problem_at))
    )
    if county_code:
        query = query.where(Case.county_code == county_code)
    return list(db.session.scalars(query.order_by(Case.problem_at.desc()).limit(200)))
