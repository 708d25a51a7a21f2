"""The sending job: reload, skip what was sent, wait out quiet hours, send once, record the outcome;
and the sweep that re-enqueues messages whose job was lost."""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq import Retry, get_current_job
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from intake.extensions import db
from intake.jobcontext import in_app_context
from intake.jobs import enqueue_now, queue_for, still_pending
from intake.logconfig import bind_case
from intake.redis_conn import get_queue, get_redis
from intake.sweeplog import records_run
from intake.transaction import transactional
from intake.types import utcnow
from notify import services
from notify.backends import backend_for
from notify.models import MESSAGE_STATES, Message, MessageStatus
from notify.sealing import unseal

log = logging.getLogger(__name__)
EARLY_RUNS = 50  # a job that keeps waking early (clock skew) gives up after this many holds


@in_app_context
def send_message(message_id: int, secret: list | None = None, now: datetime | None = None):
    """Send one queued message once, whatever the reruns and however many workers.

    The masks of the stored body are filled from the row's sealed secret (notify/sealing.py);
    `secret`, the (offset, value) pairs, is only for jobs enqueued before secrets were sealed.
    Returns "sent" or "skipped"; a job that woke early returns RQ's Retry, which schedules
    it again for the end of the hold with the same arguments.
    """
    outcome, error = transactional(_send_once)(message_id, secret, now or utcnow())
    if error is not None:
        raise error  # after the commit of the attempt and its error; RQ's Retry tries again with backoff
    return outcome


def _send_once(message_id: int, secret: list | None, now: datetime):
    """The sending step: (outcome, None), or (None, the gateway's exception) with the attempt recorded."""
    message = db.session.get(Message, message_id)
    if message is not None:
        bind_case(message.case_id)
    if message is None or not MESSAGE_STATES.allows(message, "send"):
        return "skipped", None
    if (until := services.hold_until(message, now)) is not None:
        message.not_before = until
        return Retry(max=EARLY_RUNS, interval=max(1, int((until - now).total_seconds()) + 1)), None
    # The row lock and the status check in one statement: a second worker or a retry waits here
    # until this one commits, then finds the message no longer in a state it may be sent from.
    claimed = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, MESSAGE_STATES.where(Message.status, "send"))
        .values(attempts=Message.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return "skipped", None
    db.session.refresh(message)
    body = services.unmask(message.body, secret or unseal(message.sealed_secret))
    if body is None:  # the code cannot be recovered: better no SMS than one with ******
        message.last_error = "the lookup code of this message could not be recovered (MESSAGE_SECRET_KEY changed?)"
        message.sealed_secret = None
        MESSAGE_STATES.move(message, "fail")
        log.error("message %s not sent: its secret could not be recovered", message_id)
        return "failed", None
    try:
        gateway_id = backend_for(message.channel).send(message, body)
    except Exception as exc:
        message.last_error = repr(exc)[:2000]
        if not _retries_left():
            MESSAGE_STATES.move(message, "fail")
            message.sealed_secret = None
        return None, exc
    message.gateway_id = gateway_id or ""
    message.sealed_secret = None  # sent: the code is the citizen's now, not ours to keep
    MESSAGE_STATES.move(message, "send")
    message.sent_at = utcnow()
    message.last_error = ""
    return "sent", None


def _retries_left() -> bool:
    job = get_current_job()
    return bool(job and job.retries_left)


@in_app_context
@records_run
def sweep_unsent(now: datetime | None = None) -> int:
    """Enqueue again the queued messages whose job is gone (Redis was down at the commit, the
    worker died), once they are older than NOTIFY_SWEEP_GRACE and past their not_before.

    A failed job is requeued; a job that is gone is enqueued again by id: what it sends, the
    sealed lookup code included, is on the message row.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["NOTIFY_SWEEP_GRACE"])
    ids = db.session.scalars(
        sa.select(Message.id)
        .where(
            Message.status == MessageStatus.QUEUED,
            Message.created_at < cutoff,
            sa.or_(Message.not_before.is_(None), Message.not_before < cutoff),
        )
        .order_by(Message.created_at)
        .limit(1000)
    ).all()
    db.session.rollback()
    revived = sum(_revive(message_id, get_redis()) for message_id in ids)
    if revived:
        log.info("sweep re-enqueued %d unsent messages", revived)
    return revived


def _revive(message_id: int, redis) -> bool:
    """Enqueue the message's job again unless it is still waiting or running."""
    job_id = services.send_job_id(message_id)
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        job = None
    if job is not None:
        if still_pending(job, get_queue(kind=queue_for(send_message))):
            return False
        if job.get_status() == JobStatus.FAILED:
            try:
                job.requeue()
                return True
            except InvalidJobOperation:  # no longer in the failed registry
                pass
        job.delete()
    return enqueue_now(send_message, message_id, job_id=job_id, retry=services.retry_policy())
