"""SMS in: a signed message from the gateway becomes a case, a follow-up to one, or a command's answer.

Every inbound message is an `InboundSms` row whose unique `message_id` is inserted in the same
transaction as whatever the message does, so a replay (or a second request racing the first)
changes nothing. Replies go out through notify with one idempotency key per inbound message,
at once even in quiet hours (urgent): the sender has just written to us.
"""

import hashlib
import hmac
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import pydantic
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from intake.callbacks.services import answer_by_sms
from intake.cases.codes import well_formed
from intake.cases.forms import DESCRIPTION_MAX
from intake.cases.kinds import kind_from_sms, kind_of
from intake.cases.lookup import public_status
from intake.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, Channel
from intake.cases.services import CITIZEN, Submission, submit_case
from intake.cases.workflow import record, transition
from intake.extensions import db
from intake.inputs import BadJson, loads_object, text_problem
from intake.jobs import ROUTE_CASE, enqueue_after_commit, route_job_id
from intake.phones import normalise_phone
from intake.schemas import field_errors
from intake.sms.models import InboundSms
from intake.sms.schemas import InboundSmsIn
from intake.types import utcnow
from notify.services import opt_out, reply_sms, tell_citizen
from routing.services import get_router, sms_keywords

log = logging.getLogger(__name__)

PARTS_WINDOW = timedelta(hours=24)  # parts of one message arrive within minutes; refs wrap around
DETAILS_WINDOW = timedelta(hours=24)  # a reply to "where and what?" joins its case within this time
MIN_TEXT = 5  # as the web form: shorter non-command texts get the help reply
PART, JOINED = "part", "joined"
PARTS_TIMEOUT = timedelta(minutes=10)  # a part still alone after this: the rest was lost in the network

# The words that make a text a tip, inquiry or suggestion, and the emergency words (danger happening
# now: the reply says to call 110/119/120 and the case is urgent, RULES.md), are the `sms_keyword`
# table, administered at /admin/reference/sms-words and read through routing.services.sms_keywords
# (a per-process cache that follows the reference version in Redis).
# Commands, matched on the whole text after NFKC folding (full-width digits and letters count).
COMMANDS = (
    ("query", re.compile(r"^查询[\s:：#]*(?P<number>[\d\s-]*)$")),
    ("survey", re.compile(r"^(?P<digit>[123])$")),
    ("opt_out", re.compile(r"^(TD|退订)$", re.IGNORECASE)),
    ("help", re.compile(r"^(帮助|HELP|\?)$", re.IGNORECASE)),
)
CJK = re.compile(r"[\u4e00-\u9fff]")


class BadInbound(ValueError):
    """The body is not a message the webhook can read; `message` says why, in Chinese."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Inbound:
    """One message (or one part of a long one) as the gateway sent it."""

    message_id: str
    sender: str
    recipient: str
    text: str
    received_at: datetime
    concat_ref: str = ""
    part_no: int = 1
    part_count: int = 1


def signature_ok(body: bytes, signature: str | None) -> bool:
    """X-Signature is the hex HMAC-SHA256 of the raw body with SMS_WEBHOOK_SECRET."""
    secret = current_app.config.get("SMS_WEBHOOK_SECRET") or ""
    if not secret:
        log.warning("SMS_WEBHOOK_SECRET is not set: every inbound SMS is refused")
        return False
    if not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, signature.strip().lower().encode())


def parse_inbound(body: bytes) -> Inbound:
    """The gateway's JSON: message_id, from, to, text, received_at, optional concat_ref/part_no/part_count."""
    try:  # bad UTF-8, absurd nesting, NUL characters and lone surrogates (intake/inputs.py)
        data = loads_object(body)
    except BadJson as exc:
        raise BadInbound(exc.field, exc.message) from None
    try:
        read = InboundSmsIn.model_validate(data)
    except pydantic.ValidationError as exc:
        name, messages = next(iter(field_errors(exc).items()))  # the first field's, in the body's order
        field = getattr(InboundSmsIn.model_fields.get(name), "alias", None) or name  # "from", not "sender"
        raise BadInbound(field, messages[0]) from None
    inbound = Inbound(**read.model_dump(exclude={"sender", "to"}), sender=read.sender, recipient=read.to)
    if inbound.part_no > inbound.part_count:
        raise BadInbound("part_no", _("part_no 不能大于 part_count。"))
    if inbound.part_count > 1 and not inbound.concat_ref:
        raise BadInbound("concat_ref", _("分段短信需要 concat_ref。"))
    return inbound


UNREADABLE = "unreadable"
UNREADABLE_TEXT_MAX = 4000


def store_unreadable(body: bytes, problem: BadInbound) -> InboundSms:
    """Keep a signed message the webhook cannot read, once per body, for staff to look at.

    Answered 200 (the webhook): a 4xx would have the gateway send the same bytes again forever.
    Its message_id is derived from the body, so a redelivery stores nothing new; its text is the
    body with every byte the database cannot take escaped, and the reason in front of it.
    """
    message_id = "unreadable:" + hashlib.sha256(body).hexdigest()[:64]
    row = db.session.scalar(sa.select(InboundSms).filter_by(message_id=message_id))
    if row is not None:
        return row
    shown = body[:UNREADABLE_TEXT_MAX].decode("utf-8", errors="backslashreplace")
    shown = "".join(c if text_problem(c) is None else ascii(c)[1:-1] for c in shown)
    row = InboundSms(
        message_id=message_id,
        sender="",
        recipient="",
        text=f"[{problem.field}] {problem.message}\n{shown}",
        received_at=utcnow(),
        outcome=UNREADABLE,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same body in a request running alongside this one
        db.session.rollback()
        return db.session.scalar(sa.select(InboundSms).filter_by(message_id=message_id))
    return row


def receive(inbound: Inbound) -> str:
    """Do what one inbound message asks, once; returns what became of it (the webhook's status).

    A part of a long message only is stored (PART): the webhook commits it on its own and then
    calls `receive_part`, so the last part to commit sees every part (see join_parts).
    """
    sender = sender_e164(inbound.sender)
    row = _store(inbound, sender or inbound.sender[:20])
    if row is None:
        # A part seen before may still wait for its join (the request that had to do it failed).
        row = db.session.scalar(sa.select(InboundSms).filter_by(message_id=inbound.message_id, outcome=PART))
        if row is None:
            return "duplicate"
    elif sender is None:  # a service number or garbage: kept, but there is nobody to answer
        row.outcome = "ignored"
        return "ignored"
    if row.part_count > 1:
        row.outcome = PART
        return PART
    return _handle_rows([row], sender)


def receive_part(message_id: str) -> str:
    """After the part with this message_id is committed: its long message, once every part is in."""
    row = db.session.scalar(sa.select(InboundSms).filter_by(message_id=message_id, outcome=PART))
    rows = join_parts(row) if row is not None else None
    if rows is None:
        return PART
    return _handle_rows(rows, row.sender)


def _handle_rows(rows: list[InboundSms], sender: str) -> str:
    outcome = handle(rows, sender, "".join(r.text for r in rows))
    for r in rows:
        r.outcome = outcome
    return outcome


def sender_e164(raw: str) -> str | None:
    """The sender in E.164 (gateways often drop the +: 8613812345678), or None."""
    region = current_app.config["DEFAULT_REGION"]
    number = normalise_phone(raw.strip(), region)
    if number is None and raw.strip().isdigit():
        number = normalise_phone("+" + raw.strip(), region)
    return number


def join_parts(part: InboundSms) -> list[InboundSms] | None:
    """All parts of the long message `part` belongs to, in order, once every part is stored.

    Called after the part's own row is committed, so the last part to arrive sees them all.
    One UPDATE claims the parts; a racing request or a later replay claims none and gets None.
    """
    newest_first = db.session.scalars(
        sa.select(InboundSms)
        .where(
            InboundSms.sender == part.sender,
            InboundSms.concat_ref == part.concat_ref,
            InboundSms.part_count == part.part_count,
            InboundSms.outcome == PART,
            InboundSms.created_at >= utcnow() - PARTS_WINDOW,
        )
        .order_by(InboundSms.id.desc())
    ).all()
    by_no: dict[int, InboundSms] = {}
    for row in newest_first:  # a part left over from an older message with the same ref loses
        by_no.setdefault(row.part_no, row)
    if set(by_no) != set(range(1, part.part_count + 1)):
        return None
    ids = [by_no[n].id for n in sorted(by_no)]
    claimed = db.session.scalars(
        sa.update(InboundSms)
        .where(InboundSms.id.in_(ids), InboundSms.outcome == PART)
        .values(outcome=JOINED)
        .returning(InboundSms.id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(claimed) != len(ids):
        db.session.rollback()
        return None
    return [by_no[n] for n in sorted(by_no)]


def lost_part_groups(now=None) -> list[tuple[str, str, int]]:
    """(sender, concat_ref, part_count) of the long messages whose missing parts never came."""
    now = now or utcnow()
    return [
        tuple(group)
        for group in db.session.execute(
            sa.select(InboundSms.sender, InboundSms.concat_ref, InboundSms.part_count)
            .where(InboundSms.outcome == PART, InboundSms.created_at < now - PARTS_TIMEOUT)
            .group_by(InboundSms.sender, InboundSms.concat_ref, InboundSms.part_count)
        )
    ]


def handle_lost_group(sender: str, ref: str, parts: int) -> bool:
    """Handle one such message with the parts that did come (in order); False if it was taken.

    The group is claimed with one UPDATE, so a part arriving at the same moment, or a second
    sweep, cannot handle it again.
    """
    ids = db.session.scalars(
        sa.update(InboundSms)
        .where(
            InboundSms.sender == sender,
            InboundSms.concat_ref == ref,
            InboundSms.part_count == parts,
            InboundSms.outcome == PART,
        )
        .values(outcome=JOINED)
        .returning(InboundSms.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        return False
    rows = sorted(
        db.session.scalars(sa.select(InboundSms).where(InboundSms.id.in_(ids))), key=lambda r: (r.part_no, r.id)
    )
    _handle_rows(rows, sender)
    return True


def handle(rows: list[InboundSms], sender: str, text: str) -> str:
    """A command, the details a case asked for, the help reply, or a new case."""
    if not _fold(text):
        return send_help(rows, sender)
    command, match = _command(text)
    if command is not None:
        return COMMAND_HANDLERS[command](rows, sender, **match.groupdict())
    case = case_waiting_for_details(sender)
    if case is not None:
        add_details(case, rows, text)
        return "added"
    if len(_fold(text)) < MIN_TEXT or not CJK.search(text):
        return send_help(rows, sender)
    if too_many_cases(sender) and not mentions_emergency(text):
        _reply(rows, sender, "sms_too_many")  # the message stays stored for staff to read
        return "limited"
    open_case(rows, sender, text)
    return "new_case"


def too_many_cases(sender: str) -> bool:
    """A number that opened SMS_DAILY_CASES cases in the last 24 hours opens no more by SMS."""
    opened = db.session.scalar(
        sa.select(sa.func.count(Case.id)).where(
            Case.complainant_phone == sender,
            Case.channel == Channel.SMS,
            Case.received_at >= utcnow() - timedelta(hours=24),
        )
    )
    return opened >= current_app.config["SMS_DAILY_CASES"]


def open_case(rows: list[InboundSms], sender: str, text: str) -> Case:
    """A case on channel sms, routed like any other; the sender gets its number and code."""
    kind = kind_from_sms(text, sms_keywords())
    decision = get_router().decide(
        {"text": text, "caller_phone": sender, "kind": kind.value, "channel": Channel.SMS.value}
    )
    urgent = mentions_emergency(text)
    case, lookup_code = submit_case(
        Submission(
            kind=kind,
            channel=Channel.SMS,
            description=text.strip()[:DESCRIPTION_MAX],
            complainant_phone=sender,
            urgent=urgent,
        )
    )  # committed with the inbound rows
    for row in rows:
        row.case_id = case.id
    event = next(e for e in case.events if e.action == "receive")
    if urgent:
        tell_citizen(case, "sms_emergency", event, urgent=True)  # never capped: it says to call 110/119/120
    tell_citizen(case, "sms_receipt", event, urgent=True, secret={"lookup_code": lookup_code}, capped=True)
    # Complaints and tips are about a business: without a place or a trade, ask the sender.
    unclear = decision.township is None or decision.industry is None
    if unclear and kind_of(kind).asks_details:
        case.details_requested_at = utcnow()
        tell_citizen(case, "sms_ask_details", event, urgent=True, capped=True)
    return case


def case_waiting_for_details(sender: str) -> Case | None:
    """The sender's open SMS case that asked for where or what within the last 24 hours, locked."""
    return db.session.scalar(
        sa.select(Case)
        .where(
            Case.complainant_phone == sender,
            Case.channel == Channel.SMS,
            Case.details_requested_at >= utcnow() - DETAILS_WINDOW,
            Case.status.in_(OPEN_STATUSES),
        )
        .order_by(Case.details_requested_at.desc())
        .limit(1)
        .with_for_update()
    )


def add_details(case: Case, rows: list[InboundSms], text: str) -> CaseEvent:
    """Append the sender's answer to the case; route again if the router has not seen it yet."""
    room = DESCRIPTION_MAX - len(case.description) - 1
    addition = text.strip()[: max(room, 0)]
    if addition:
        case.description = f"{case.description}\n{addition}"
    case.details_requested_at = None
    for row in rows:
        row.case_id = case.id
    event = record(
        case,
        "details_added",
        CITIZEN,
        reason=_("市民短信补充：%(t)s", t=text.strip()),
        public=True,
        data={"message_id": rows[0].message_id},
    )
    # A case the machine put in triage for want of these details goes back to the machine; one a
    # department returned stays with the dispatcher, who reads the added text there.
    if case.status is CaseStatus.TRIAGE and not any(e.action == "return" for e in case.events):
        transition(case, "reroute", CITIZEN, reason=_("市民补充了地点或情况，重新自动分派"), public=False)
    if case.status is CaseStatus.RECEIVED:
        enqueue_after_commit(ROUTE_CASE, case.id, job_id=route_job_id(case.id))  # the one id the sweep knows
    if mentions_emergency(text):
        case.urgent = True
        tell_citizen(case, "sms_emergency", event, urgent=True)  # never capped: it says to call 110/119/120
    tell_citizen(case, "sms_details_added", event, urgent=True, capped=True)
    return event


def answer_query(rows: list[InboundSms], sender: str, number: str) -> str:
    """查询 <受理编号>: the status of the sender's own case; anyone else's reads as not found."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return send_help(rows, sender)
    case = db.session.scalar(sa.select(Case).filter_by(tracking_no=digits)) if well_formed(digits) else None
    if case is None or case.complainant_phone != sender:
        _reply(rows, sender, "sms_not_found", number=digits[:20])
        return "query"
    for row in rows:
        row.case_id = case.id
    _reply(rows, sender, "sms_status", case=case, status=public_status(case))
    return "query"


def answer_survey(rows: list[InboundSms], sender: str, digit: str) -> str:
    """1/2/3 answers the survey waiting for this number; with none waiting, the help reply."""
    callback = answer_by_sms(sender, digit)  # the answer is committed with the inbound row
    if callback is None:
        return send_help(rows, sender)
    for row in rows:
        row.case_id = callback.case_id
    _reply(rows, sender, "sms_survey_thanks")
    return "survey"


def stop_messages(rows: list[InboundSms], sender: str) -> str:
    """TD: no more non-essential messages to this number."""
    opt_out(sender)
    _reply(rows, sender, "sms_opt_out")
    return "opt_out"


def send_help(rows: list[InboundSms], sender: str) -> str:
    _reply(rows, sender, "sms_help")
    return "help"


COMMAND_HANDLERS = {"query": answer_query, "survey": answer_survey, "opt_out": stop_messages, "help": send_help}


def mentions_emergency(text: str) -> bool:
    return any(word in text for word in sms_keywords().get("emergency", ()))


def _store(inbound: Inbound, sender: str) -> InboundSms | None:
    """The message's row, flushed; None when its message_id was seen before (a replay)."""
    seen = sa.select(InboundSms.id).filter_by(message_id=inbound.message_id)
    if db.session.scalar(seen) is not None:
        return None
    row = InboundSms(
        message_id=inbound.message_id,
        sender=sender,
        recipient=inbound.recipient,
        text=inbound.text,
        received_at=inbound.received_at,
        concat_ref=inbound.concat_ref if inbound.part_count > 1 else "",
        part_no=inbound.part_no,
        part_count=inbound.part_count,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same message_id in a request running alongside this one
        db.session.rollback()
        return None
    return row


def _reply(rows: list[InboundSms], sender: str, template: str, case: Case | None = None, **context) -> None:
    """One reply per inbound message (keyed by its first part) and template, sent at once."""
    reply_sms(sender, template, f"sms-in:{rows[0].message_id}:{template}", case=case, urgent=True, **context)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _command(text: str) -> tuple[str | None, re.Match | None]:
    folded = _fold(text)
    for name, pattern in COMMANDS:
        if match := pattern.match(folded):
            return name, match
    return None, None
