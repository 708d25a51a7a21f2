"""Queueing a message to a citizen: one row per case, event and recipient, sent after commit."""
import csv
import os
from functools import lru_cache

import sqlalchemy as sa
from rq import Retry

from intake.cases.models import Case, CaseEvent
from intake.extensions import db
from intake.jobs import enqueue_after_commit
from notify.models import Message

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates.csv")


@lru_cache(maxsize=1)
def templates() -> dict[str, dict]:
    with open(TEMPLATES, encoding="utf-8", newline="") as fh:
        return {row["key"]: row for row in csv.DictReader(fh)}


def tell_citizen(case: Case, template: str, event: CaseEvent, **context) -> Message | None:
    """Queue an SMS to the complainant about this event; nothing for an anonymous tipper."""
    if case.anonymous or not case.complainant_phone:
        return None
    db.session.flush()  # the event needs its id for the idempotency key
    key = f"{case.id}:{event.id}:{case.complainant_phone}:{template}"
    existing = db.session.scalar(sa.select(Message).filter_by(idempotency_key=key))
    if existing is not None:
        return existing
    spec = templates()[template]
    message = Message(case_id=case.id, channel=spec["channel"], recipient=case.complainant_phone,
                      template=template, body=spec["text"].format(tracking_no=case.tracking_no, **context),
                      idempotency_key=key)
    db.session.add(message)
    db.session.flush()
    from notify.tasks import send_message

    enqueue_after_commit(send_message, message.id, job_id=f"send-message-{message.id}",
                         retry=Retry(max=3, interval=[10, 60, 300]))
    return message
