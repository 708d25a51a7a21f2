"""The sending job: reload, skip what was sent, send once, record the outcome."""
import sqlalchemy as sa

from intake.extensions import db
from intake.jobcontext import in_app_context
from intake.types import utcnow
from notify.backends import backend_for
from notify.models import Message, MessageStatus


@in_app_context
def send_message(message_id: int) -> str:
    """Send one queued message; a rerun after success sends nothing."""
    message = db.session.scalar(sa.select(Message).where(Message.id == message_id).with_for_update())
    if message is None or message.status is MessageStatus.SENT:
        db.session.rollback()
        return "skipped"
    message.attempts += 1
    try:
        message.gateway_id = backend_for(message.channel).send(message)
    except Exception as exc:
        message.last_error = repr(exc)[:2000]
        message.status = MessageStatus.FAILED
        db.session.commit()
        raise  # RQ's Retry tries again with backoff
    message.status = MessageStatus.SENT
    message.sent_at = utcnow()
    db.session.commit()
    return "sent"
