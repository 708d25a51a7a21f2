"""The periodic clock sweep: amber warnings and red escalations (督办), each once per clock."""
from datetime import datetime

import sqlalchemy as sa

from intake.cases.models import Case, Clock
from intake.cases.workflow import CLOCK_LABELS, record
from intake.extensions import db
from intake.filters import local_time
from intake.jobcontext import in_app_context
from intake.types import utcnow
from notify.services import tell_staff


@in_app_context
def sweep_clocks(now: datetime | None = None) -> dict[str, int]:
    """Warn the clocks that turned amber and escalate those that ran out; a rerun finds nothing new."""
    now = now or utcnow()
    red = _claim(Clock.escalated_at, Clock.due_at <= now, now, also_warned=True)
    amber = _claim(Clock.warned_at, sa.and_(Clock.amber_at <= now, Clock.due_at > now), now)
    for clock_id in amber:
        _tell(db.session.get(Clock, clock_id), "warn_amber", "clock_amber", "将于 %s 到期")
    for clock_id in red:
        _tell(db.session.get(Clock, clock_id), "escalate", "clock_red", "已于 %s 超期，列入督办")
    db.session.commit()
    return {"amber": len(amber), "red": len(red)}


def _claim(column, due, now: datetime, also_warned: bool = False) -> list[int]:
    """Mark the level as reached in one UPDATE; concurrent sweeps cannot both claim a clock."""
    values = {column.key: now}
    if also_warned:  # a clock found already red (a worker was down) needs no amber warning after
        values["warned_at"] = sa.func.coalesce(Clock.warned_at, now)
    stmt = (sa.update(Clock).where(Clock.stopped_at.is_(None), column.is_(None), due)
            .values(values).returning(Clock.id).execution_options(synchronize_session=False))
    return list(db.session.scalars(stmt))


def _tell(clock: Clock, action: str, template: str, what: str) -> None:
    case: Case = clock.case
    label = str(CLOCK_LABELS.get(clock.name, clock.name))
    due = local_time(clock.due_at)
    event = record(case, action, reason=f"{label}{what % due}", public=False,
                   data={"clock": clock.name, "clock_id": clock.id})
    tell_staff(case, template, event, clock=label, due=due)


def overdue_clocks(county_code: str | None = None, include_amber: bool = True) -> list[Clock]:
    """Running clocks on the supervisor's list: escalated (red) first, then amber, by due time."""
    level = Clock.escalated_at.is_not(None)
    if include_amber:
        level = sa.or_(level, Clock.warned_at.is_not(None))
    query = (sa.select(Clock).join(Case).where(Clock.stopped_at.is_(None), level)
             .order_by(Clock.escalated_at.is_(None), Clock.due_at).limit(500))
    if county_code:
        query = query.where(Case.county_code == county_code)
    return list(db.session.scalars(query))
