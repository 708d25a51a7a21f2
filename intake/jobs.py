"""Background jobs: enqueued only after the transaction that made their rows commits."""

import logging
from datetime import datetime, timezone

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake import metrics
from intake.extensions import db
from intake.redis_conn import MESSAGES, ROUTING, SWEEPS, get_queue

log = logging.getLogger(__name__)

# Jobs that services ask for by name, so that asking never imports the worker's module
# (tests/intake/test_jobs.py checks that each path is a job function).
ROUTE_CASE = "routing.tasks.route_case"
SEND_MESSAGE = "notify.tasks.send_message"
SEND_MESSAGES = "notify.tasks.send_messages"
SEND_RECEIPT = "notify.tasks.send_receipt"
JOB_PATHS = (ROUTE_CASE, SEND_MESSAGE, SEND_MESSAGES, SEND_RECEIPT)
_PENDING = "jobs_after_commit"

# The queue of every job, in one place: routing never waits behind a message backlog, and the
# sweeps, which only enqueue, wait behind neither for long.
JOB_QUEUES = {
    ROUTE_CASE: ROUTING,
    SEND_MESSAGE: MESSAGES,
    SEND_MESSAGES: MESSAGES,
    SEND_RECEIPT: MESSAGES,
    "routing.sweeps.tell_about_clocks": MESSAGES,
    "routing.tasks.sweep_unrouted": SWEEPS,
    "routing.sweeps.sweep_clocks": SWEEPS,
    "intake.callbacks.tasks.sweep_callbacks": SWEEPS,
    "notify.tasks.sweep_unsent": SWEEPS,
    "intake.sms.tasks.sweep_lost_parts": SWEEPS,
}
OVERDUE_GRACE = 5  # seconds past its timeout before a job still marked started counts as lost
# Jobs still to be run or running: a sweep leaves these be rather than enqueue a second copy.
ALIVE = frozenset(
    {
        JobStatus.QUEUED,
        JobStatus.SCHEDULED,
        JobStatus.STARTED,
        JobStatus.DEFERRED,
        JobStatus.RATE_LIMITED,
        JobStatus.READY_TO_ENQUEUE,
    }
)


def job_path(func) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


def queue_for(func) -> str:
    """The kind of queue (routing, messages, sweeps) a job function or path runs on."""
    try:
        return JOB_QUEUES[job_path(func)]
    except KeyError:
        raise ValueError(f"{job_path(func)} has no queue: add it to intake.jobs.JOB_QUEUES") from None


def route_job_id(case_id: int) -> str:
    """The routing job's id: one per case, so a sweep can tell that a case's job is still queued."""
    return f"route-case-{case_id}"


def receipt_job_id(case_id: int) -> str:
    """The receipt job's id: one per case, so the sweep can tell that it is still queued."""
    return f"receipt-case-{case_id}"


def still_pending(job: Job | None, queue: Queue) -> bool:
    """Whether the job will still run: waiting, scheduled or running. A job marked queued that is
    not in its queue's list (a worker took it as Redis went away) is not; nor is one marked started
    longer ago than its timeout allows (RQ would have stopped it: its worker died with it in hand,
    SIGKILLed or its machine gone, and RQ's own cleanup would wait for the worker's TTL)."""
    if job is None:
        return False
    status = job.get_status(refresh=False)
    if status not in ALIVE:
        return False
    if status == JobStatus.QUEUED:
        return queue.connection.lpos(queue.key, job.id) is not None
    if status == JobStatus.STARTED and job.started_at is not None and (job.timeout or -1) > 0:
        running = (datetime.now(timezone.utc) - job.started_at.replace(tzinfo=timezone.utc)).total_seconds()
        return running <= job.timeout + OVERDUE_GRACE
    return True


def pending_job(job_id: str, func) -> bool:
    """Whether the job with this id is still waiting or running on its queue."""
    queue = get_queue(kind=queue_for(func))
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    return still_pending(job, queue)


def enqueue_after_commit(func, *args, job_id: str | None = None, at=None, **kwargs) -> None:
    """Queue `func(*args)` to run once the current transaction has committed (or at `at`, later).

    ``func`` is a job function or its dotted path ("routing.tasks.route_case"): a service that
    only asks for work to be done names the job rather than importing the worker's module.
    """
    queue_for(func)  # a job without a queue fails here, in the request or job that asked for it
    db.session.info.setdefault(_PENDING, []).append((func, args, {**kwargs, "at": at}, job_id))


def enqueue_now(func, *args, job_id: str | None = None, at=None, **kwargs) -> bool:
    """Enqueue at once, or for `at` (a datetime) with RQ's scheduler; a Redis outage is logged,
    not raised (the sweep catches up). The job goes on its own queue (JOB_QUEUES)."""
    kind = queue_for(func)
    try:
        queue = get_queue(kind=kind)
        if at is not None:
            queue.enqueue_at(at, func, *args, job_id=job_id, **kwargs)
        else:
            queue.enqueue(func, *args, job_id=job_id, **kwargs)
        return True
    except Exception:  # redis down or unreachable: the case is stored, the sweep will retry
        log.warning(
            "could not enqueue %s%r; the periodic sweep will retry",
            getattr(func, "__name__", func),
            args,
            exc_info=True,
        )
        return False


def enqueue_all(pending: list, counts: list | None = None) -> None:
    """Enqueue (func, args, kwargs, job_id) jobs in one Redis pipeline: one round trip for all of a
    transaction's jobs (a filing has two: routing and making the receipt SMS) and its case counts
    (intake.metrics), not one per job.

    With Redis down nothing is raised (the sweeps catch up); each job is logged as not enqueued."""
    if len(pending) == 1 and not counts:
        func, args, kwargs, job_id = pending[0]
        enqueue_now(func, *args, job_id=job_id, **kwargs)
        return
    try:
        queues = {kind: get_queue(kind=kind) for kind in {queue_for(func) for func, *_ in pending}}
        with next(iter(queues.values())).connection.pipeline() as pipe:
            pipe.multi()  # RQ puts an enqueue's commands in MULTI; a scheduled one's would come before it
            for func, args, kwargs, job_id in pending:
                queue = queues[queue_for(func)]  # each job on its own queue, all in one round trip
                kwargs = dict(kwargs)
                at = kwargs.pop("at", None)
                if at is not None:
                    queue.enqueue_at(at, func, *args, job_id=job_id, pipeline=pipe, **kwargs)
                else:
                    queue.enqueue(func, *args, job_id=job_id, pipeline=pipe, **kwargs)
            metrics.add_counts(pipe, counts or [])
            pipe.execute()
    except Exception:  # redis down or unreachable: the rows are stored, the sweeps will retry
        if counts:
            metrics.counting_failed(counts)
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
    counts = metrics.pop_counts(session)
    if not current_app:
        return
    if pending:
        enqueue_all(pending, counts)
    else:
        metrics.flush_counts(counts)


@event.listens_for(Session, "after_soft_rollback")
def _drop_jobs(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)
