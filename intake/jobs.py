"""Background jobs: enqueued only after the transaction that made their rows commits."""

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.extensions import db
from intake.redis_conn import get_queue

log = logging.getLogger(__name__)

# Jobs that services ask for by name, so that asking never imports the worker's module
# (tests/intake/test_jobs.py checks that each path is a job function).
ROUTE_CASE = "routing.tasks.route_case"
SEND_MESSAGE = "notify.tasks.send_message"
JOB_PATHS = (ROUTE_CASE, SEND_MESSAGE)
_PENDING = "jobs_after_commit"


def enqueue_after_commit(func, *args, job_id: str | None = None, at=None, **kwargs) -> None:
    """Queue `func(*args)` to run once the current transaction has committed (or at `at`, later).

    ``func`` is a job function or its dotted path ("routing.tasks.route_case"): a service that
    only asks for work to be done names the job rather than importing the worker's module.
    """
    db.session.info.setdefault(_PENDING, []).append((func, args, {**kwargs, "at": at}, job_id))


def enqueue_now(func, *args, job_id: str | None = None, at=None, **kwargs) -> bool:
    """Enqueue at once, or for `at` (a datetime) with RQ's scheduler; a Redis outage is logged,
    not raised (the sweep catches up)."""
    try:
        if at is not None:
            get_queue().enqueue_at(at, func, *args, job_id=job_id, **kwargs)
        else:
            get_queue().enqueue(func, *args, job_id=job_id, **kwargs)
        return True
    except Exception:  # redis down or unreachable: the case is stored, the sweep will retry
        log.warning(
            "could not enqueue %s%r; the periodic sweep will retry",
            getattr(func, "__name__", func),
            args,
            exc_info=True,
        )
        return False


def enqueue_all(pending: list) -> None:
    """Enqueue (func, args, kwargs, job_id) jobs in one Redis pipeline: one round trip for all of a
    transaction's jobs (a filing has two: routing and the receipt SMS), not two per job.

    With Redis down nothing is raised (the sweeps catch up); each job is logged as not enqueued."""
    if len(pending) == 1:
        func, args, kwargs, job_id = pending[0]
        enqueue_now(func, *args, job_id=job_id, **kwargs)
        return
    try:
        queue = get_queue()
        with queue.connection.pipeline() as pipe:
            pipe.multi()  # RQ puts an enqueue's commands in MULTI; a scheduled one's would come before it
            for func, args, kwargs, job_id in pending:
                kwargs = dict(kwargs)
                at = kwargs.pop("at", None)
                if at is not None:
                    queue.enqueue_at(at, func, *args, job_id=job_id, pipeline=pipe, **kwargs)
                else:
                    queue.enqueue(func, *args, job_id=job_id, pipeline=pipe, **kwargs)
            pipe.execute()
    except Exception:  # redis down or unreachable: the rows are stored, the sweeps will retry
        for func, args, _kwargs, _job_id in pending:
            log.warning(
                "could not enqueue %s%r; the periodic sweep will retry",
                getattr(func, "__name__", func),
                args,
                exc_info=True,
            )


@event.listens_for(Session, "after_commit")
def _flush_jobs(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not current_app:
        return
    enqueue_all(pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop_jobs(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)
