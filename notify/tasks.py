"""The sending job: reload, skip what was sent, wait out quiet hours, send once, record the outcome
(and the job that sends messages made together, each so);
the receipt job, which makes a filed case's receipt SMS from what the filing sealed on the case;
and the sweep that re-enqueues messages (and receipts) whose job was lost."""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq import Retry, get_current_job
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from intake.cases.models import PUBLIC_CHANNELS, Case, CaseEvent
from intake.extensions import db
from intake.jobcontext import in_app_context
from intake.jobs import enqueue_now, pending_job, queue_for, receipt_job_id, still_pending
from intake.logconfig import bind_case
from intake.redis_conn import get_queue, get_redis
from intake.sweeplog import records_run
from intake.transaction import transactional
from intake.types import utcnow
from notify import services
from notify.backends import backend_for
from notify.models import MESSAGE_STATES, Message, MessageStatus
from notify.sealing import unseal, unseal_json

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


@in_app_context
def send_messages(message_ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """Send messages made together about one event (services.enqueue_together: a dispatch's SMS
    and mail to the duty staff), each once as send_message sends it.

    One the gateway refuses goes on alone, in a send_message job at its first retry interval with
    the retries after the first; one that must still wait (a hold) in one for the end of the hold.
    Returns how many were sent, skipped, failed, and handed on to jobs of their own.
    """
    counts: dict[str, int] = {}
    intervals = services.retry_intervals()
    for message_id in message_ids:
        at = now or utcnow()
        outcome, error = transactional(_send_once)(message_id, None, at, more_tries=bool(intervals))
        if error is not None or isinstance(outcome, Retry):
            tried = 1 if error is not None else 0
            wait = intervals[0] if error is not None else outcome.intervals[0]
            enqueue_now(
                send_message,
                message_id,
                job_id=services.send_job_id(message_id),
                at=at + timedelta(seconds=wait),
                retry=services.retry_policy(tried),
            )  # with Redis down, the sweep enqueues it (the row is queued)
            outcome = "handed_on"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _send_once(message_id: int, secret: list | None, now: datetime, more_tries: bool | None = None):
    """The sending step: (outcome, None), or (None, the gateway's exception) with the attempt recorded.

    `more_tries`: whether the message is tried again after a refusal (else: whether this job has
    retries left); with none, a refusal fails the message."""
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
        if not (_retries_left() if more_tries is None else more_tries):
            MESSAGE_STATES.move(message, "fail")
            message.sealed_secret = None
        return None, exc
    message.gateway_id = gateway_id or ""
    message.sealed_secret = None  # sent: the code is the citizen's now, not ours to keep
    MESSAGE_STATES.move(message, "send")
    message.sent_at = utcnow()
    message.last_error = ""
    return "sent", None


@in_app_context
def send_receipt(case_id: int) -> str:
    """Make the receipt SMS of a filed case (its tracking number and lookup code) once.

    The filing sealed the template and the code on the case (`case.sealed_receipt`); this job, on
    the messages queue, queues the SMS by the usual rules (notify.services.tell_citizen: the daily
    caps, with the cap of what anyone can trigger for a web, API or SMS filing; quiet hours) and
    clears the sealed copy in the same transaction, so a rerun, or the sweep's copy, makes nothing
    twice. The message row then holds the code sealed until it is sent (send_message).
    Returns "queued", "none" (no SMS: a landline, the caps) or "skipped" (already made).
    """
    case = db.session.scalar(sa.select(Case).where(Case.id == case_id).with_for_update())
    if case is None or not case.sealed_receipt:
        db.session.rollback()
        return "skipped"
    bind_case(case.id)
    receipt = unseal_json(case.sealed_receipt)
    case.sealed_receipt = None
    if not isinstance(receipt, dict) or not receipt.get("lookup_code"):  # no key opens it: no SMS with ******
        log.error("case %s: its receipt could not be recovered (MESSAGE_SECRET_KEY changed?); no receipt sent", case_id)
        return "none"
    event = db.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "receive").order_by(CaseEvent.id)
    )
    message = services.tell_citizen(
        case,
        receipt["template"],
        event,
        secret={"lookup_code": receipt["lookup_code"]},
        capped=case.channel in PUBLIC_CHANNELS,
    )
    return "queued" if message is not None and message.status == MessageStatus.QUEUED else "none"


def _retries_left() -> bool:
    job = get_current_job()
    return bool(job and job.retries_left)


@in_app_context
@records_run
def sweep_unsent(now: datetime | None = None) -> int:
    """Enqueue again the queued messages whose job is gone (Redis was down at the commit, the
    worker died), once they are older than NOTIFY_SWEEP_GRACE and past their not_before.

    A failed job is requeued; a job that is gone is enqueued again by id: what it sends, the
    sealed lookup code included, is on the message row. A filed case whose receipt is still sealed
    on it after the grace (the receipt job was lost) gets its receipt job again.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["NOTIFY_SWEEP_GRACE"])
    unsent = db.session.execute(
        sa.select(Message.id, Message.idempotency_key, Message.not_before)
        .where(
            Message.status == MessageStatus.QUEUED,
            Message.created_at < cutoff,
            sa.or_(Message.not_before.is_(None), Message.not_before < cutoff),
        )
        .order_by(Message.created_at)
        .limit(1000)
    ).all()
    db.session.rollback()
    pending_receipts = db.session.scalars(
        sa.select(Case.id)
        .where(Case.sealed_receipt.is_not(None), Case.received_at < cutoff)
        .order_by(Case.received_at)
        .limit(1000)
    ).all()
    db.session.rollback()
    revived = sum(_revive(row, get_redis()) for row in unsent)
    revived += sum(_revive_receipt(case_id) for case_id in pending_receipts)
    if revived:
        log.info("sweep re-enqueued %d unsent messages", revived)
    return revived


def _revive_receipt(case_id: int) -> bool:
    """Enqueue the case's receipt job again unless it is still waiting or running."""
    job_id = receipt_job_id(case_id)
    if pending_job(job_id, send_receipt):
        return False
    return enqueue_now(send_receipt, case_id, job_id=job_id)


def _revive(message, redis) -> bool:
    """Enqueue the message's job again unless it, or the job of the messages sent together with
    it, is still waiting or running. `message`: its id, idempotency_key and not_before."""
    message_id = message.id
    job_id = services.send_job_id(message_id)
    together = services.together_job_id(message)
    if together and pending_job(together, send_messages):
        return False
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
