"""Queueing a message: one row per case, event and recipient, held, capped or suppressed by the
sending rules, and sent by a job after the commit.

Rules for SMS (mail is neither held nor capped):
- quiet hours (NOTIFY_QUIET_HOURS, Asia/Shanghai): a non-urgent SMS waits for their end;
- a number that replied TD (sms_opt_out) gets essential messages only;
- a number gets at most NOTIFY_SMS_DAILY_CAP messages a day; essential ones are not stopped by it;
- SMS that anyone can trigger for any number (the web form, the API and the SMS channel: `capped`)
  stop, essential or not, once the number has NOTIFY_RECIPIENT_DAILY_CAP SMS that day, so nobody can
  make the system bomb a phone. What the rules stop is stored as suppressed, with the reason.

Secrets (a receipt's lookup code) are never stored in the clear: the row's body shows ****** where
they go, and the values sit next to it encrypted (notify/sealing.py) until the message is sent, so
a message whose job was lost with Redis is re-created by the sweep from the row alone, and a mask
is never sent: a secret no key opens fails the message instead.
"""

import csv
import functools
import logging
import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from rq import Retry

from intake.accounts.models import Role, User
from intake.cases.models import Case, CaseEvent
from intake.extensions import db
from intake.jobs import SEND_MESSAGE, SEND_MESSAGES, enqueue_after_commit
from intake.phones import can_receive_sms, normalise_phone
from intake.reference.cache import cached
from intake.rows import insert_all, insert_now, inserted_in_this_transaction
from intake.types import utcnow
from notify.models import MESSAGE_STATES, Message, MessageStatus, MessageTemplate, SmsOptOut
from notify.sealing import seal
from routing.calendar import TZ, to_local

log = logging.getLogger(__name__)
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates.csv")
MASK = "******"
TRUE_WORDS = {"true", "1", "yes", "是"}
STATUS_LABELS = {
    MessageStatus.QUEUED.value: _l("待发送"),
    MessageStatus.SENT.value: _l("已发送"),
    MessageStatus.FAILED.value: _l("发送失败"),
    MessageStatus.SUPPRESSED.value: _l("未发送"),
}
CHANNEL_LABELS = {"sms": _l("短信"), "mail": _l("邮件")}


# --- templates -----------------------------------------------------------------------------------


def templates(path: str = TEMPLATES) -> dict[str, dict]:
    """The shipped templates by key: channel, text, essential (a missing flag means essential)."""
    return {key: dict(row) for key, row in _shipped(path, os.path.getmtime(path)).items()}


@functools.lru_cache(maxsize=4)
def _shipped(path: str, mtime: float) -> dict[str, dict]:
    """The file read once per process (and again if it changes): not once per message queued."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {
            row["key"]: {
                "key": row["key"],
                "channel": row.get("channel") or "sms",
                "text": row["text"],
                "essential": (row.get("essential") or "true").strip().lower() in TRUE_WORDS,
            }
            for row in csv.DictReader(fh)
        }


def seed_templates(path: str = TEMPLATES) -> int:
    """Add the shipped templates whose key is not in the table, and bring the rows no administrator
    has edited up to the shipped wording; an administrator's wording stays. Returns the rows added."""
    shipped = templates(path)
    rows = {row.key: row for row in db.session.scalars(sa.select(MessageTemplate))}
    for key, row in rows.items():
        if row.updated_by_id is None and key in shipped and row.text != shipped[key]["text"]:
            row.text, row.essential = shipped[key]["text"], shipped[key]["essential"]
    new = [
        MessageTemplate(key=key, channel=row["channel"], text=row["text"], essential=row["essential"])
        for key, row in shipped.items()
        if key not in rows
    ]
    db.session.add_all(new)
    db.session.flush()
    return len(new)


def template_for(key: str) -> dict:
    """The wording in force: the table's row, or the shipped one if the table lacks the key.

    The table is read once per process and kept until it changes (intake.reference.cache: at once
    for a change this process makes, within REFERENCE_CHECK_SECONDS for another's), not once per message."""
    row = template_rows().get(key)
    return dict(row) if row is not None else templates()[key]


def template_rows() -> dict[str, dict]:
    """Every row of message_template as plain data, cached per process."""

    def read():
        columns = (MessageTemplate.key, MessageTemplate.channel, MessageTemplate.text, MessageTemplate.essential)
        return {
            key: {"key": key, "channel": channel, "text": text, "essential": essential}
            for key, channel, text, essential in db.session.execute(sa.select(*columns))
        }

    return cached("message_templates", ("message_template",), read)


@dataclass
class Rendered:
    body: str  # what is stored: secrets masked
    secret: list[tuple[int, str]]  # where in body a mask stands, and what it stands for


def render(text: str, context: dict, secret: dict | None = None) -> Rendered:
    """`text.format(**context, **secret)`, with each secret's place in the body masked and noted."""
    secret = secret or {}
    marks = {name: chr(0xE000 + i) for i, name in enumerate(secret)}  # private-use characters
    marked = text.format(**{**context, **marks})
    by_mark = {mark: secret[name] for name, mark in marks.items()}
    body, spans = "", []
    for ch in marked:
        if ch in by_mark:
            spans.append((len(body), by_mark[ch]))
        body += MASK if ch in by_mark else ch
    return Rendered(body, spans)


def unmask(body: str, secret: list | None) -> str | None:
    """The body with its masks replaced by their secrets; None if a mask is left over or moved
    (the citizen must never get ****** for a lookup code)."""
    for offset, value in sorted(secret or [], reverse=True):
        if body[offset : offset + len(MASK)] != MASK:
            return None
        body = body[:offset] + value + body[offset + len(MASK) :]
    return None if MASK in body else body


# --- the sending rules ---------------------------------------------------------------------------


def quiet_hours(spec: str | None = None) -> tuple[time, time] | None:
    """(start, end) of NOTIFY_QUIET_HOURS ("21:00-08:00"), or None when there are none."""
    spec = current_app.config.get("NOTIFY_QUIET_HOURS", "") if spec is None else spec
    if not spec or not spec.strip():
        return None
    start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    return None if start == end else (start, end)


def quiet_until(moment: datetime, spec: str | None = None) -> datetime | None:
    """When the quiet hours `moment` falls in end (UTC), or None if it falls outside them."""
    hours = quiet_hours(spec)
    if hours is None:
        return None
    start, end = hours
    local = to_local(moment)
    now, day = local.timetz().replace(tzinfo=None), local.date()
    if start < end:
        quiet, end_day = start <= now < end, day
    else:  # across midnight
        quiet, end_day = now >= start or now < end, day + timedelta(days=1) if now >= start else day
    return datetime.combine(end_day, end, tzinfo=TZ).astimezone(timezone.utc) if quiet else None


def hold_until(message: Message, now: datetime) -> datetime | None:
    """When a message may go if not now: its not_before, or the end of quiet hours for an SMS."""
    later = [message.not_before] if message.not_before and message.not_before > now else []
    if message.channel == "sms" and not message.urgent:
        later.append(quiet_until(max([now, *later])))
    return max((t for t in later if t), default=None)


def _sms_count_statement():
    """SMS to :recipient sent or queued to go in [:start, :end): built once, on the table (no ORM
    entity), so each filing's count is a cached statement with three parameters."""
    table = Message.__table__
    when = sa.func.coalesce(table.c.sent_at, table.c.not_before, table.c.created_at)
    return sa.select(sa.func.count(table.c.id)).where(
        table.c.channel == "sms",
        table.c.recipient == sa.bindparam("recipient"),
        table.c.status.in_([MessageStatus.QUEUED, MessageStatus.SENT]),
        when >= sa.bindparam("start", type_=table.c.created_at.type),
        when < sa.bindparam("end", type_=table.c.created_at.type),
    )


_SMS_COUNT = _sms_count_statement()


def sms_today(recipient: str, moment: datetime) -> int:
    """SMS to this number sent, or queued to go, on the local day of `moment`."""
    day = to_local(moment).date()
    start = datetime.combine(day, time.min, tzinfo=TZ)
    return db.session.execute(
        _SMS_COUNT, {"recipient": recipient, "start": start, "end": start + timedelta(days=1)}
    ).scalar()


def normalise(phone: str) -> str:
    phone = (phone or "").strip()
    return normalise_phone(phone, current_app.config.get("DEFAULT_REGION", "CN")) or phone


def opted_out(phone: str) -> bool:
    return db.session.get(SmsOptOut, normalise(phone)) is not None


def opt_out(phone: str) -> bool:
    """The number replied TD: from now on it gets essential messages only. True if it is new."""
    phone = normalise(phone)
    if db.session.get(SmsOptOut, phone) is not None:
        return False
    db.session.add(SmsOptOut(phone=phone))
    db.session.flush()
    log.info("%s opted out of non-essential SMS", phone)
    return True


def opt_in(phone: str) -> bool:
    """The number wants every message again. True if it had opted out."""
    row = db.session.get(SmsOptOut, normalise(phone))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def suppression(channel: str, recipient: str, essential: bool, send_day: datetime, capped: bool = False) -> str:
    """Why this message must not go (for last_error), or '' when it may."""
    if channel != "sms":
        return ""
    hard_cap = current_app.config.get("NOTIFY_RECIPIENT_DAILY_CAP", 12)
    if capped and sms_today(recipient, send_day) >= hard_cap:
        return _("未发送：该号码当天短信已达 %(cap)d 条，网页、接口和短信渠道触发的短信不再发送。", cap=hard_cap)
    if essential:
        return ""
    if opted_out(recipient):
        return _("未发送：该号码已回复TD退订，只接收必要通知。")
    cap = current_app.config.get("NOTIFY_SMS_DAILY_CAP", 5)
    if sms_today(recipient, send_day) >= cap:
        return _("未发送：该号码当天短信已达 %(cap)d 条上限。", cap=cap)
    return ""


# --- queueing ------------------------------------------------------------------------------------


def may_text(case: Case) -> bool:
    """The complainant may be told by SMS: named, with a number that can receive one (a mobile)."""
    region = current_app.config.get("DEFAULT_REGION", "CN")
    return not case.anonymous and can_receive_sms(case.complainant_phone, region)


def tell_citizen(
    case: Case,
    template: str,
    event: CaseEvent,
    urgent: bool = False,
    secret: dict | None = None,
    capped: bool = False,
    **context,
) -> Message | None:
    """Queue an SMS to the complainant about this event; nothing for an anonymous tipper, nor for
    a number no SMS can reach (a landline: the operator reads the number and code back instead).
    `capped`: the citizen's own request triggered it (web form, API, SMS), NOTIFY_RECIPIENT_DAILY_CAP applies."""
    if not may_text(case):
        return None
    return queue_message(
        case, "sms", case.complainant_phone, template, event, urgent=urgent, secret=secret, capped=capped, **context
    )


def tell_complainants(case: Case, template: str, event: CaseEvent, **context) -> list[Message]:
    """tell_citizen for the case's complainant and for each complainant of a case merged into it,
    each SMS with the number that complainant knows."""
    messages = [tell_citizen(c, template, event, **context) for c in [case, *case.merged_cases]]
    return [m for m in messages if m is not None]


def tell_staff(
    case: Case,
    template: str,
    event: CaseEvent,
    platform: bool = False,
    urgent: bool = False,
    township: bool = True,
    **context,
) -> list[Message]:
    """Queue SMS (to a phone) and mail (to an email) to the active, on-duty staff of the case: its
    department and township (the department alone with township=False), or, for the platform's own
    duties (triage, the callback) and cases with no department yet, the county's dispatchers and
    operators."""
    if platform or not case.lead_department_id:
        county = (
            sa.or_(User.county_code.is_(None), User.county_code == case.county_code) if case.county_code else sa.true()
        )
        duty = sa.and_(User.role.in_([Role.DISPATCHER, Role.OPERATOR]), county)
        reachable, params = _reachable(duty), {}
    else:  # every dispatch: the statement built once
        with_township = bool(case.township_code and township)
        reachable = _department_duty(with_township)
        params = {
            "department_id": case.lead_department_id,
            **({"township": case.township_code} if with_township else {}),
        }
    new_event = _names_nothing_yet(event)
    recipients = [
        (channel, address)
        for phone, email in db.session.execute(reachable, params)
        for channel, address in (("sms", phone), ("mail", email))
        if address
    ]
    if not recipients:
        return []
    db.session.flush()  # the event needs its id for the idempotency keys
    # queue_message for each recipient, with one INSERT for all of them rather than one each
    messages, prepared, by_key = [], [], {}
    for channel, address in recipients:
        key = _message_key(case, event, address, template)
        message = by_key.get(key)
        if message is None and not new_event:
            message = db.session.scalar(sa.select(Message).filter_by(idempotency_key=key))
        if message is None:
            message, why = _prepare(Draft(key, case, channel, address, template, context, urgent=urgent))
            prepared.append((message, why))
        by_key[key] = message
        messages.append(message)
    insert_all([message for message, _why in prepared])  # one INSERT for all (intake/rows.py)
    enqueue_together([message for message, why in prepared if not why])
    return messages


def _reachable(duty):
    """The phone and mail of the active, on-duty staff with this duty."""
    return sa.select(User.phone, User.email).where(User.active.is_(True), User.on_duty.is_(True), duty)


@functools.cache
def _department_duty(with_township: bool):
    """_reachable for a department's case: its department's staff and (with_township) its
    township's, as bind parameters, so the statement and its cache key are built once."""
    township = (
        sa.and_(User.role == Role.TOWNSHIP, User.township_code == sa.bindparam("township"))
        if with_township
        else sa.false()
    )
    department = sa.and_(User.role == Role.DEPARTMENT, User.department_id == sa.bindparam("department_id"))
    return _reachable(sa.or_(department, township))


def tell_user(user: User, template: str, key: str, **context) -> list[Message]:
    """An SMS to a staff user's phone and a mail to their email about their own account (no case),
    at once even in quiet hours; `key` names the occasion, so it is sent once."""
    messages = []
    for channel, address in (("sms", user.phone), ("mail", user.email)):
        if address:
            messages.append(_queue(Draft(f"{key}:{channel}", None, channel, address, template, context, urgent=True)))
    return messages


def queue_message(
    case: Case,
    channel: str,
    recipient: str,
    template: str,
    event: CaseEvent,
    urgent: bool = False,
    secret: dict | None = None,
    now: datetime | None = None,
    capped: bool = False,
    **context,
) -> Message:
    """One message per case, event, recipient and template, sent by a job after the commit.

    `secret` values (e.g. {"lookup_code": "123456"}) reach the gateway; the database holds them
    only encrypted (notify/sealing.py), until the message is sent;
    `now` is for tests. A suppressed message is stored (status suppressed) and never enqueued.
    """
    new_event = _names_nothing_yet(event)
    if event.id is None or (case is not None and case.id is None):
        db.session.flush()  # the event needs its id for the idempotency key
    key = _message_key(case, event, recipient, template)
    draft = Draft(key, case, channel, recipient, template, context, urgent=urgent, secret=secret, capped=capped)
    return _queue(draft, now, new_key=new_event)


def _names_nothing_yet(event: CaseEvent) -> bool:
    """No message can have this event in its key yet: it is not flushed, or was inserted just now."""
    return event.id is None or inserted_in_this_transaction(event)


def _message_key(case: Case, event: CaseEvent, recipient: str, template: str) -> str:
    """The idempotency key of a message about an event: once per case, event, recipient and template."""
    return f"{case.id}:{event.id}:{recipient}:{template}"


def together_job_id(message: Message) -> str | None:
    """The id of the one send job of the messages made together with this one about its event
    (enqueue_together): their key without the recipient, and when they go. None for a message
    that is not about an event (its key is not _message_key's)."""
    parts = (message.idempotency_key or "").split(":")
    if len(parts) < 4:
        return None
    when = int(message.not_before.timestamp()) if message.not_before else "now"
    return f"send-together-{parts[0]}-{parts[1]}-{parts[-1]}-{when}"  # RQ: letters, digits, - and _


def reply_sms(
    recipient: str,
    template: str,
    key: str,
    case: Case | None = None,
    urgent: bool = False,
    secret: dict | None = None,
    **context,
) -> Message:
    """An SMS answering an inbound SMS, with or without a case (查询, TD, help).

    `key` names the inbound message and the reply, so a replayed SMS queues nothing new;
    otherwise the same rules and after-commit sending as queue_message, and the recipient's daily
    cap (anyone can text us with any number as the sender).
    """
    return _queue(Draft(key, case, "sms", recipient, template, context, urgent=urgent, secret=secret, capped=True))


@dataclass(frozen=True)
class Draft:
    """One message to queue: its idempotency key, what it is about, to whom, in which words.

    `secret` values reach the gateway and are stored only sealed; `capped`: the citizen's own
    request triggered it, NOTIFY_RECIPIENT_DAILY_CAP applies."""

    key: str
    case: Case | None
    channel: str
    recipient: str
    template: str
    context: dict
    urgent: bool = False
    secret: dict | None = None
    capped: bool = False


def _queue(draft: Draft, now: datetime | None = None, new_key: bool = False) -> Message:
    """Store the message once per idempotency key, held or suppressed by the rules, sent after commit.

    `new_key`: the key names an event this transaction has just inserted, so no message can have it
    yet and the lookup is skipped (the unique index on idempotency_key still stands behind it)."""
    existing = None if new_key else db.session.scalar(sa.select(Message).filter_by(idempotency_key=draft.key))
    if existing is not None:
        return existing
    message, why = _prepare(draft, now)
    insert_now(message)  # one INSERT compiled once per process, not a flush (intake/rows.py)
    if not why:
        enqueue_send(message)
    return message


def _prepare(draft: Draft, now: datetime | None = None) -> tuple[Message, str]:
    """The new message for this draft, held or suppressed by the rules, not yet added; and why it
    must not go ('' when it may)."""
    now = now or utcnow()
    wording = template_for(draft.template)
    base = {"tracking_no": getattr(draft.case, "tracking_no", ""), "url": public_url()}
    rendered = render(wording["text"], {**base, **draft.context}, draft.secret)
    message = Message(
        case_id=getattr(draft.case, "id", None),
        channel=draft.channel,
        recipient=draft.recipient,
        template=draft.template,
        body=rendered.body,
        idempotency_key=draft.key,
        urgent=draft.urgent,
        essential=wording["essential"],
        created_at=now,
        status=MessageStatus.QUEUED,
    )
    message.not_before = hold_until(message, now)
    why = suppression(draft.channel, draft.recipient, message.essential, message.not_before or now, draft.capped)
    if why:
        MESSAGE_STATES.move(message, "suppress")
        message.last_error = why
    elif rendered.secret:
        message.sealed_secret = seal(rendered.secret)  # a suppressed message keeps nothing
    return message, why


def public_url() -> str:
    """The site's address for citizens (PUBLIC_BASE_URL), as the {url} of an SMS: "{url}/lookup"."""
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def send_job_id(message_id: int) -> str:
    return f"send-message-{message_id}"


def retry_intervals() -> list[int]:
    """Seconds before each new try of a message the gateway refused (NOTIFY_RETRY_INTERVALS)."""
    return list(current_app.config.get("NOTIFY_RETRY_INTERVALS") or [10, 60, 300])


def retry_policy(tried: int = 0) -> Retry | None:
    """RQ's retries for a send job, after `tried` of them were used up elsewhere (a message that
    failed in a send_messages job goes on alone with the rest); None when none are left."""
    intervals = retry_intervals()[tried:]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue_send(message: Message, job_id: str | None = None) -> None:
    """Enqueue the send job after the commit: at once, or for not_before with RQ's scheduler.

    The job gets the id only: what it sends, secrets included, is read from the row."""
    enqueue_after_commit(
        SEND_MESSAGE,
        message.id,
        job_id=job_id or send_job_id(message.id),
        retry=retry_policy(),
        at=message.not_before,
    )


def enqueue_together(messages: list[Message]) -> None:
    """enqueue_send for messages made together about one event (a dispatch's SMS and mail to the
    duty staff), with one send_messages job for those that go at the same time instead of a job
    each: a job's own bookkeeping in Redis and in the worker costs more than sending one message."""
    by_time: dict = {}
    for message in messages:
        by_time.setdefault(message.not_before, []).append(message)
    for at, group in by_time.items():
        if len(group) == 1:
            enqueue_send(group[0])
            continue
        enqueue_after_commit(
            SEND_MESSAGES, [m.id for m in group], job_id=together_job_id(group[0]), retry=retry_policy(), at=at
        )


# --- what administrators read and edit -----------------------------------------------------------


def message_log(status: str = "", channel: str = "", recipient: str = "", limit: int = 200) -> list[Message]:
    """The newest outbound messages first, filtered by status, channel and (part of a) recipient."""
    query = sa.select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    if status:
        query = query.where(Message.status == MessageStatus(status))
    if channel:
        query = query.where(Message.channel == channel)
    if recipient.strip():
        query = query.where(Message.recipient.contains(recipient.strip()))
    return list(db.session.scalars(query))


def masked_recipient(recipient: str) -> str:
    """A recipient as the message log shows it: +86 138****5678, z***@example.com."""
    if "@" in recipient:
        name, _sep, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(recipient) <= 7:
        return "*" * len(recipient)
    return f"{recipient[:-8]}****{recipient[-4:]}"


SMS_SEGMENT = 70  # Chinese characters in one SMS
SMS_PART = 67  # in each part of a longer one (the rest of the part holds the joining header)
SAMPLE_VALUES = {
    "tracking_no": "2611230123457",
    "master_no": "2611220765432",
    "lookup_code": "123456",
    "due": "2026-12-07 23:59",
    "clock": "签收",
    "result": "情况属实，已责令商家整改并退款",
}
GENERIC_SAMPLE = "示例内容"


class TemplateError(ValueError):
    """Wording that cannot be saved; the message is for the administrator."""


@dataclass
class Preview:
    text: str  # rendered with sample values
    length: int
    segments: int  # SMS parts a citizen's phone receives; 0 for mail


def sms_segments(length: int) -> int:
    if length <= SMS_SEGMENT:
        return 1 if length else 0
    return -(-length // SMS_PART)


def placeholders(text: str) -> list[str]:
    """The {names} a template uses, in order; TemplateError for braces that do not pair up or for
    anything but a plain name ({0}, {a.b} and {a[0]} would reach into the values)."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError:
        raise TemplateError(_("花括号不成对：占位符应写成 {tracking_no} 这样，正文中不能单独使用 { 或 }。")) from None
    for name in fields:
        if not name.isidentifier():
            raise TemplateError(_("占位符 {%(name)s} 写法不对，只能是 {tracking_no} 这样的名称。", name=name))
    return fields


def allowed_placeholders(key: str) -> list[str]:
    """The names the code sending this template fills in: those of the shipped wording."""
    shipped = templates().get(key)
    text = shipped["text"] if shipped else template_for(key)["text"]
    return list(dict.fromkeys(["tracking_no", *placeholders(text)]))


def check_template(key: str, text: str) -> Preview:
    """Render new wording for `key` with sample values; TemplateError, in Chinese, if it cannot be used."""
    text = (text or "").strip()
    if not text:
        raise TemplateError(_("请填写模板内容。"))
    allowed = allowed_placeholders(key)
    unknown = [name for name in dict.fromkeys(placeholders(text)) if name not in allowed]
    if unknown:
        raise TemplateError(
            _(
                "不认识的占位符：%(unknown)s。这条通知可用的占位符：%(allowed)s。",
                unknown="、".join("{%s}" % n for n in unknown),
                allowed="、".join("{%s}" % n for n in allowed),
            )
        )
    try:
        samples = {**SAMPLE_VALUES, "url": public_url()}
        sample = text.format(**{n: samples.get(n, GENERIC_SAMPLE) for n in allowed})
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise TemplateError(_("模板无法生成短信：%(error)s", error=str(exc))) from None
    channel = template_for(key)["channel"]
    return Preview(sample, len(sample), sms_segments(len(sample)) if channel == "sms" else 0)


def save_template(key: str, text: str, actor=None) -> MessageTemplate:
    """New wording for a template, used by the next message queued with it."""
    check_template(key, text)
    row = db.session.get(MessageTemplate, key)
    if row is None:  # shipped after the last seed
        shipped = templates()[key]
        row = MessageTemplate(key=key, channel=shipped["channel"], essential=shipped["essential"])
        db.session.add(row)
    row.text = text.strip()
    row.updated_by_id = getattr(actor, "id", None)
    row.updated_at = utcnow()
    db.session.flush()
    log.info("message template %s changed by %s", key, getattr(actor, "username", "?"))
    return row


@dataclass
class TemplateView:
    row: MessageTemplate
    preview: Preview | None
    problem: str
    allowed: list[str]
    editor: str  # who changed the wording last; '' while it is as shipped


def template_overview() -> list[TemplateView]:
    """Every template with its sample rendering, length and SMS parts (or what is wrong with it)."""
    editors = dict(
        db.session.execute(
            sa.select(User.id, User.display_name).where(User.id.in_(sa.select(MessageTemplate.updated_by_id)))
        ).all()
    )
    views = []
    for row in db.session.scalars(sa.select(MessageTemplate).order_by(MessageTemplate.key)):
        preview, problem = None, ""
        try:
            preview = check_template(row.key, row.text)
        except TemplateError as exc:
            problem = str(exc)
        views.append(
            TemplateView(row, preview, problem, allowed_placeholders(row.key), editors.get(row.updated_by_id, ""))
        )
    return views
