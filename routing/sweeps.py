"""The periodic clock sweep: amber warnings and red escalations (督办), each once per clock."""
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm

from intake.cases.models import Case, CaseStatus, Clock
from intake.reference.models import Department, Division
from intake.cases.workflow import CLOCK_LABELS, record
from intake.extensions import db
from intake.filters import local_time
from intake.jobcontext import in_app_context
from intake.types import utcnow
from notify.services import tell_staff

# Clocks that only bound what staff may do (send a case back); they never warn or escalate.
WINDOWS = ("return",)
# Clocks the platform's own staff answer for, not the department.
PLATFORM_DUTIES = ("triage", "callback")


@in_app_context
def sweep_clocks(now: datetime | None = None) -> dict[str, int]:
    """Warn the clocks that turned amber and escalate those that ran out; a rerun finds nothing new."""
    now = now or utcnow()
    closed = _close_windows(now)
    red = _claim(Clock.escalated_at, Clock.due_at <= now, now, also_warned=True)
    amber = _claim(Clock.warned_at, sa.and_(Clock.amber_at <= now, Clock.due_at > now), now)
    for clock_id in amber:
        _tell(db.session.get(Clock, clock_id), "warn_amber", "clock_amber", "将于 %s 到期")
    for clock_id in red:
        clock = db.session.get(Clock, clock_id)
        clock.case.escalated_at = clock.case.escalated_at or now
        _tell(clock, "escalate", "clock_red", "已于 %s 超期，列入督办")
    db.session.commit()
    return {"amber": len(amber), "red": len(red), "windows_closed": closed}


def _close_windows(now: datetime) -> int:
    """A window (the return window) that passed is simply over: nobody is late."""
    stmt = (sa.update(Clock).where(Clock.stopped_at.is_(None), Clock.escalated_at.is_(None),
                                   Clock.name.in_(WINDOWS), Clock.due_at <= now)
            .values(stopped_at=Clock.due_at, met=True).execution_options(synchronize_session=False))
    return db.session.execute(stmt).rowcount


def _claim(column, due, now: datetime, also_warned: bool = False) -> list[int]:
    """Mark the level as reached in one UPDATE; concurrent sweeps cannot both claim a clock."""
    values = {column.key: now}
    if also_warned:  # a clock found already red (a worker was down) needs no amber warning after
        values["warned_at"] = sa.func.coalesce(Clock.warned_at, now)
    stmt = (sa.update(Clock).where(Clock.stopped_at.is_(None), column.is_(None), due,
                                   Clock.name.not_in(WINDOWS))
            .values(values).returning(Clock.id).execution_options(synchronize_session=False))
    return list(db.session.scalars(stmt))


def _tell(clock: Clock, action: str, template: str, what: str) -> None:
    case: Case = clock.case
    label = str(CLOCK_LABELS.get(clock.name, clock.name))
    due = local_time(clock.due_at)
    event = record(case, action, reason=f"{label}{what % due}", public=False,
                   data={"clock": clock.name, "clock_id": clock.id})
    tell_staff(case, template, event, platform=clock.name in PLATFORM_DUTIES, clock=label, due=due)


def _flagged(county_code: str | None):
    """Running duty clocks that turned amber or red (a red clock is always marked warned too)."""
    query = sa.select(Clock).join(Case).where(Clock.stopped_at.is_(None), Clock.warned_at.is_not(None),
                                               Clock.name.not_in(WINDOWS))
    return query.where(Case.county_code == county_code) if county_code else query


def overdue_clocks(county_code: str | None = None, department_id: int | None = None,
                   township_code: str | None = None, limit: int = 200) -> list[Clock]:
    """Running clocks on the supervisor's list: escalated (red) first, then amber, by due time."""
    query = _flagged(county_code)
    if department_id:
        query = query.where(Clock.department_id == department_id)
    if township_code:
        query = query.where(Case.township_code == township_code)
    query = query.order_by(Clock.escalated_at.is_(None), Clock.due_at).limit(limit)
    return list(db.session.scalars(query.options(
        sa.orm.contains_eager(Clock.case).options(
            sa.orm.load_only(Case.id, Case.tracking_no, Case.problem_at, Case.township_code,
                             Case.lead_department_id),
            sa.orm.joinedload(Case.township), sa.orm.joinedload(Case.lead_department)),
        sa.orm.joinedload(Clock.department))))


def overdue_summary(county_code: str | None = None) -> dict[str, list]:
    """Red and amber counts by department and by township, worst first: one pass over the flagged clocks."""
    red = sa.func.count().filter(Clock.escalated_at.is_not(None))
    amber = sa.func.count().filter(Clock.escalated_at.is_(None))
    rows = db.session.execute(_flagged(county_code).with_only_columns(
        Clock.department_id, Case.township_code, red, amber)
        .group_by(Clock.department_id, Case.township_code)).all()
    by_department: dict = {}
    by_township: dict = {}
    for department_id, township, r, a in rows:
        for table, key in ((by_department, department_id), (by_township, township)):
            old = table.get(key, (0, 0))
            table[key] = (old[0] + r, old[1] + a)
    departments = dict(db.session.execute(sa.select(Department.id, Department.name).where(
        Department.id.in_([k for k in by_department if k is not None]))).all())
    townships = dict(db.session.execute(sa.select(Division.code, Division.name).where(
        Division.code.in_([k for k in by_township if k is not None]))).all())

    def worst(row):
        return -row[2], -row[3]

    return {
        "department": sorted(((k if k in departments else None, departments.get(k), r, a)
                              for k, (r, a) in by_department.items()), key=worst),
        "township": sorted(((k if k in townships else None, townships.get(k), r, a)
                            for k, (r, a) in by_township.items()), key=worst),
    }


def problem_cases(county_code: str | None = None) -> list[Case]:
    """Open cases escalated as problem cases (returned or reopened three times)."""
    query = (sa.select(Case).where(Case.problem_at.is_not(None), Case.status != CaseStatus.CLOSED)
             .options(sa.orm.load_only(Case.id, Case.tracking_no, Case.business_name, Case.status,
                                       Case.problem_at)))
    if county_code:
        query = query.where(Case.county_code == county_code)
    return list(db.session.scalars(query.order_by(Case.problem_at.desc()).limit(200)))
