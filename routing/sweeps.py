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
                   township_code: str | None = None, limit: int = 500) -> list[Clock]:
    """Running clocks on the supervisor's list: escalated (red) first, then amber, by due time."""
    query = _flagged(county_code)
    if department_id:
        query = query.where(Clock.department_id == department_id)
    if township_code:
        query = query.where(Case.township_code == township_code)
    query = query.order_by(Clock.escalated_at.is_(None), Clock.due_at).limit(limit)
    return list(db.session.scalars(query.options(
        sa.orm.contains_eager(Clock.case), sa.orm.joinedload(Clock.department),
        sa.orm.joinedload(Clock.case, Case.township), sa.orm.joinedload(Clock.case, Case.lead_department))))


def overdue_summary(county_code: str | None = None) -> dict[str, list]:
    """Red and amber counts by department and by township, worst first."""
    flagged = _flagged(county_code).subquery()
    red = sa.func.count().filter(flagged.c.escalated_at.is_not(None))
    amber = sa.func.count().filter(flagged.c.escalated_at.is_(None))
    by_department = db.session.execute(
        sa.select(Department.id, Department.name, red, amber)
        .select_from(flagged).outerjoin(Department, Department.id == flagged.c.department_id)
        .group_by(Department.id, Department.name).order_by(red.desc(), amber.desc())).all()
    by_township = db.session.execute(
        sa.select(Division.code, Division.name, red, amber)
        .select_from(flagged).join(Case, Case.id == flagged.c.case_id)
        .outerjoin(Division, Division.code == Case.township_code)
        .group_by(Division.code, Division.name).order_by(red.desc(), amber.desc())).all()
    return {"department": by_department, "township": by_township}


def problem_cases(county_code: str | None = None) -> list[Case]:
    """Open cases escalated as problem cases (returned or reopened three times)."""
    query = sa.select(Case).where(Case.problem_at.is_not(None), Case.status != CaseStatus.CLOSED)
    if county_code:
        query = query.where(Case.county_code == county_code)
    return list(db.session.scalars(query.order_by(Case.problem_at.desc()).limit(200)))
