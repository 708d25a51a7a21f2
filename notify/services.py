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
    return queue_message(case, "sms", case.complainant_phone, template, event, **context)


def tell_staff(case: Case, template: str, event: CaseEvent, platform: bool = False, **context) -> list[Message]:
    """Queue SMS and mail to the staff on duty for the case: its department and township, or,
    for the platform's own duties (triage, the callback) and cases with no department yet, the
    county's dispatchers and operators."""
    from intake.accounts.models import Role, User

    if platform or not case.lead_department_id:
        county = sa.or_(User.county_code.is_(None), User.county_code == case.county_code) \
            if case.county_code else sa.true()
        duty = sa.and_(User.role.in_([Role.DISPATCHER, Role.OPERATOR]), county)
    else:
        duty = sa.or_(
            sa.and_(User.role == Role.DEPARTMENT, User.department_id == case.lead_department_id),
            sa.and_(User.role == Role.TOWNSHIP, User.township_code == case.township_code)
            if case.township_code else sa.false(),
        )
    messages = []
    for user in db.session.scalars(sa.select(User).where(User.active.is_(True), duty)):
        for channel, address in (("sms", user.phone), ("mail", user.email)):
            if address:
                messages.append(queue_message(case, channel, address, template, event, **context))
    return messages


def queue_message(case: Case, channel: str, recipient: str, template: str, event: CaseEvent,
                  **context) -> Message:
    """One message per case, event, recipient and template, sent by a job after the commit."""
    db.session.flush()  # the event needs its id for the idempotency key
    key = f"{case.id}:{event.id}:{recipient}:{template}"
    existing = db.session.scalar(sa.select(Message).filter_by(idempotency_key=key))
    if existing is not None:
        return existing
    text = templates()[template]["text"].format(tracking_no=case.tracking_no, **context)
    message = Message(case_id=case.id, channel=channel, recipient=recipient, template=template,
                      body=text, idempotency_key=key)
    db.session.add(message)
    db.session.flush()
    from notify.tasks import send_message

    enqueue_after_commit(send_message, message.id, job_id=f"send-message-{message.id}",
                         retry=Retry(max=3, interval=[10, 60, 300]))
    return message
