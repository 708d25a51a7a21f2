"""RQ jobs: plain functions that take ids, reload, and check state first."""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from intake.cases.models import Case, CaseStatus, Clock, case_co_handler
from intake.extensions import db
from intake.jobcontext import in_app_context
from intake.jobs import enqueue_now, pending_job, route_job_id
from intake.metrics import count_after_commit
from intake.sweeplog import records_run
from intake.types import utcnow
from routing.services import apply_decision, case_input, get_router

log = logging.getLogger(__name__)


# The case with whether it has clocks and co-handlers, locked: built once (its cache key with it)
_CASE_TO_ROUTE = (
    sa.select(
        Case,
        sa.exists().where(Clock.case_id == Case.id),
        sa.exists().where(case_co_handler.c.case_id == Case.id),
    )
    .where(Case.id == sa.bindparam("case_id"))
    .with_for_update(of=Case)
)


@in_app_context
def route_case(case_id: int) -> str:
    """Route one received case; a second run on the same case changes nothing."""
    row = db.session.execute(_CASE_TO_ROUTE, {"case_id": case_id}).first()
    case = row[0] if row else None
    if case is None or case.status is not CaseStatus.RECEIVED:
        db.session.rollback()
        return "skipped"
    _known_empty(case, clocks=not row[1], co_handlers=not row[2])
    decision = get_router().decide(case_input(case))
    apply_decision(case, decision)
    count_after_commit("intake_cases_routed", "triage" if case.routing["triage"] else "auto")
    return case.status.value


def _known_empty(case: Case, **empty: bool) -> None:
    """Collections the case's query found empty are set so, not lazy-loaded by the first read
    (a routed case is usually new: no clocks, no co-handlers)."""
    loaded = sa.inspect(case).dict
    for name, is_empty in empty.items():
        if is_empty and name not in loaded:
            set_committed_value(case, name, [])


@in_app_context
@records_run
def sweep_unrouted() -> int:
    """Enqueue routing for every case still waiting after the grace period (Redis or worker outage)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["ROUTING_SWEEP_GRACE"])
    ids = db.session.scalars(
        sa.select(Case.id)
        .where(Case.status == CaseStatus.RECEIVED, Case.received_at < cutoff)
        .order_by(Case.received_at)
        .limit(1000)
    ).all()
    db.session.rollback()  # nothing to write; do not hold the snapshot while talking to Redis
    enqueued = 0
    for case_id in ids:
        job_id = route_job_id(case_id)
        if pending_job(job_id, route_case):  # still queued or running: a second copy would only wait behind it
            continue
        enqueued += enqueue_now(route_case, case_id, job_id=job_id)
    if enqueued:
        log.info("sweep re-enqueued %d unrouted cases", enqueued)
    return enqueued
