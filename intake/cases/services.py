"""Taking a case in on any channel, and finding it again by number and code."""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from intake.cases.codes import check_code, check_digit, hash_code, well_formed
from intake.cases.events import new_event
from intake.cases.kinds import CaseKind, Identity, kind_of
from intake.cases.models import Case, Channel
from intake.extensions import db
from intake.jobs import ROUTE_CASE, SEND_RECEIPT, enqueue_after_commit, receipt_job_id, route_job_id
from intake.metrics import count_after_commit
from intake.rows import insert_with
from intake.types import utcnow
from notify.sealing import seal_json
from routing.calendar import TZ

CITIZEN = "市民"


@dataclass
class Submission:
    """A validated case, whatever channel it came on."""

    kind: CaseKind
    channel: Channel
    description: str
    business_name: str = ""
    business_address: str = ""
    complainant_name: str = ""
    complainant_phone: str = ""  # E.164
    anonymous: bool = False
    disclose_identity: bool = False
    urgent: bool = False
    industry_hint: str | None = None
    lat: float | None = None  # WGS84, when the filer gave a point (Open311)
    long: float | None = None

    @classmethod
    def from_form(cls, form, channel: Channel) -> "Submission":
        values = {name: getattr(form, name).data for name in _FIELDS}
        return cls.from_values(values, form.phone_e164, channel)

    @classmethod
    def from_values(cls, values: dict, phone_e164: str | None, channel: Channel) -> "Submission":
        """From fields that passed intake/cases/rules.py (by the form's names; text may be None)."""
        kind = CaseKind(values["kind"])
        anonymous = bool(values.get("anonymous")) and kind_of(kind).identity is Identity.MAY_BE_ANONYMOUS
        return cls(
            kind=kind,
            channel=channel,
            description=values["description"].strip(),
            business_name=(values.get("business_name") or "").strip(),
            business_address=(values.get("business_address") or "").strip(),
            complainant_name="" if anonymous else (values.get("complainant_name") or "").strip(),
            complainant_phone="" if anonymous else (phone_e164 or ""),
            anonymous=anonymous,
            disclose_identity=bool(values.get("disclose_identity")) and not anonymous,
            urgent=bool(values.get("urgent")),
            industry_hint=values.get("industry") or None,
        )


_FIELDS = (
    "kind",
    "description",
    "business_name",
    "business_address",
    "complainant_name",
    "anonymous",
    "disclose_identity",
    "urgent",
    "industry",
)


def submit_case(submission: Submission, actor=None, receipt: str | None = None) -> tuple[Case, str]:
    """Add a case (flushed), enqueue routing after the commit; return it and its lookup code.

    The caller's edge commits, so what the caller adds (the inbound SMS rows) is stored in the same
    transaction as the case, or not at all. With a `receipt` template the citizen also gets the
    tracking number and lookup code by SMS: the template and the code are sealed on the case
    (notify/sealing.py: the code is never stored in the clear) and a job on the messages queue
    makes the SMS from them once the case is committed (notify.tasks.send_receipt; the sweep of
    unsent messages makes it if that job is lost). The request does not count the number's SMS
    for the day nor write the message: the job does, by the same rules.
    """
    lookup_code = f"{secrets.randbelow(10**6):06d}"
    textable = receipt and not submission.anonymous and submission.complainant_phone
    case = _insert_case(
        lookup_code,
        actor or CITIZEN,
        {"channel": submission.channel.value},
        kind=submission.kind,
        channel=submission.channel,
        description=submission.description,
        business_name=submission.business_name,
        business_address=submission.business_address,
        complainant_name=submission.complainant_name,
        complainant_phone=submission.complainant_phone,
        anonymous=submission.anonymous,
        disclose_identity=submission.disclose_identity,
        urgent=submission.urgent,
        industry_hint=submission.industry_hint,
        lat=submission.lat,
        long=submission.long,
        received_at=utcnow(),
        sealed_receipt=seal_json({"template": receipt, "lookup_code": lookup_code}) if textable else None,
    )
    enqueue_after_commit(ROUTE_CASE, case.id, job_id=route_job_id(case.id))
    if textable:
        enqueue_after_commit(SEND_RECEIPT, case.id, job_id=receipt_job_id(case.id))
    count_after_commit("intake_cases_filed", submission.channel.value)  # once the caller's edge commits
    return case, lookup_code


def find_case(tracking_no: str, lookup_code: str) -> Case | None:
    """The case with this number, if the code matches; the same None for either mistake.

    A number with a wrong check digit is refused without a query. Otherwise a missing case and
    a wrong code cost the same (one query for a hash, one HMAC). An old PBKDF2 hash, or one made with a
    retired key, is rewritten with the current key once its code is given (the request commits).
    """
    tracking_no, lookup_code = typed_digits(tracking_no), typed_digits(lookup_code)
    if not well_formed(tracking_no):
        return None
    # only the id and hash: loading a whole Case only when it exists would take longer than None
    row = db.session.execute(db.select(Case.id, Case.lookup_code_hash).filter_by(tracking_no=tracking_no)).first()
    ok, stale = check_code(row.lookup_code_hash if row else None, tracking_no, lookup_code)
    if not ok:
        return None
    case = db.session.get(Case, row.id)
    if stale:
        case.lookup_code_hash = hash_code(tracking_no, lookup_code)
    return case


def typed_digits(text: str | None) -> str:
    """The digits of a number as people type it back: "724 696", "724-696", full-width "７２４６９６"."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch in "0123456789")


TRACKING_NO_TRIES = 20  # a million numbers a day: at 10,000 cases a day, 20 collisions in a row is 1e-40


def _insert_case(lookup_code: str, actor, data: dict, **columns) -> Case:
    """INSERT the case under a new tracking number, with its receive event (which the receipt names:
    the message's idempotency key), in one statement on PostgreSQL (intake.rows.insert_with).

    The number's uniqueness is the unique index's business: `INSERT … ON CONFLICT (tracking_no) DO
    NOTHING RETURNING id` gives the row, or nothing when the number is taken (and then no event
    either), and then another number is tried. No SELECT first (a SELECT does not stop a request
    alongside taking the same number between it and the INSERT anyway), and no SAVEPOINT around the
    INSERT (SAVEPOINT and RELEASE are two more round trips; a conflict that DO NOTHING absorbs does
    not abort the transaction). PostgreSQL and SQLite (3.35+) both have it. The statement is compiled
    once per process; the returned rows are in the session as if loaded.
    """
    case = Case(**columns)
    event = new_event("receive", actor, data=data)  # its case_id is the case's, once inserted
    for _try in range(TRACKING_NO_TRIES):
        case.tracking_no = _new_tracking_no()
        case.lookup_code_hash = hash_code(case.tracking_no, lookup_code)
        if insert_with(case, event, conflict=("tracking_no",)):
            return case
    raise RuntimeError(f"no free tracking number after {TRACKING_NO_TRIES} tries")


def _new_tracking_no() -> str:
    """13 digits a person can read over the phone: date, six random digits, a check digit."""
    body = datetime.now(TZ).strftime("%y%m%d") + f"{secrets.randbelow(10**6):06d}"
    return body + check_digit(body)
