"""The hotline: calls announced by the phone system, taken, filed or answered by operators."""

from dataclasses import replace
from datetime import datetime, timedelta

import phonenumbers
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from intake.accounts.models import User
from intake.authz import may_see_identity, role_may, visible_cases
from intake.cases.kinds import kind_of
from intake.cases.labels import STATUS_LABELS
from intake.cases.models import Case, Channel, PersonalDataAccess
from intake.cases.services import Submission, submit_case
from intake.cases.workflow import transition
from intake.extensions import db
from intake.filters import local_time
from intake.hotline.models import CALL_STATES, Call, CallStatus
from intake.reference.models import Division
from intake.staff.services import ActionError, log_identity_view
from intake.types import utcnow
from notify.services import may_text, tell_citizen

# The phone system does not tell us when a waiting caller gives up: after this a ringing call
# leaves the console (it stays in the table, never taken).
RING_WINDOW = timedelta(minutes=15)
EARLIER_CASES = 10


def announce_call(call_id: str, caller: str, line: str, started_at: datetime) -> tuple[Call, bool]:
    """Store a call the phone system announced; the same call_id again returns the first (False)."""
    existing = _by_call_id(call_id)
    if existing is not None:
        return existing, False
    call = Call(call_id=call_id, caller=caller, line=line, started_at=started_at, status=CallStatus.RINGING)
    db.session.add(call)
    try:
        db.session.flush()
    except IntegrityError:  # the same announcement raced itself in
        db.session.rollback()
        return _by_call_id(call_id), False
    return call, True


def _by_call_id(call_id: str) -> Call | None:
    return db.session.scalar(sa.select(Call).filter_by(call_id=call_id))


def take_call(call: Call, user: User) -> Call:
    """Give a ringing call to this operator; of two operators clicking at once, one gets it."""
    if not role_may(user, "hotline.take"):
        raise ActionError(_("只有话务员可以接听来电。"))
    if current_call(user) is not None:
        raise ActionError(_("请先登记或结束当前来电，再接听下一个。"))
    # One conditional UPDATE: the database lets exactly one of two concurrent takers match.
    taken = db.session.execute(
        CALL_STATES.update(Call, "take")
        .where(Call.id == call.id)
        .values(taken_by_id=user.id, taken_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(call)
    if taken.rowcount != 1:
        raise ActionError(_("这个来电已被其他话务员接听。"))
    return call


def current_call(user: User) -> Call | None:
    """The call this operator has taken and not yet filed or ended."""
    return db.session.scalar(
        sa.select(Call).filter_by(status=CallStatus.TAKEN, taken_by_id=user.id).order_by(Call.taken_at.desc()).limit(1)
    )


def ringing_calls() -> list[Call]:
    """Calls waiting for an operator, longest-waiting first."""
    since = utcnow() - RING_WINDOW
    return list(
        db.session.scalars(
            sa.select(Call)
            .where(Call.status == CallStatus.RINGING, Call.announced_at >= since)
            .order_by(Call.announced_at, Call.id)
        )
    )


def end_call(call: Call, user: User) -> None:
    """End a taken call with nothing filed (the caller hung up, a wrong number)."""
    _claim(call, user, "end")
    db.session.flush()


def _claim(call: Call, user: User, move: str) -> None:
    """Move the operator's own taken call on, once: a second Enter or a second tab finds it gone."""
    done = db.session.execute(CALL_STATES.update(Call, move).where(Call.id == call.id, Call.taken_by_id == user.id))
    if done.rowcount != 1:
        db.session.rollback()
        raise ActionError(_("这个来电不是您接听的，或已经处理完毕。"))


def file_from_call(
    call: Call, user: User, submission: Submission, township: Division | None = None, village: Division | None = None
) -> tuple[Case, str]:
    """File the case told on this call, with the operator as actor; the caller gets an SMS receipt."""
    case, code = _file(call, user, submission, township, village)
    receipt = next(e for e in case.events if e.action == "receive")
    _sms_receipt(case, "hotline_receipt", receipt, code)
    db.session.flush()
    return case, code


def answer_on_the_spot(
    call: Call,
    user: User,
    submission: Submission,
    answer: str,
    township: Division | None = None,
    village: Division | None = None,
) -> tuple[Case, str]:
    """Record an inquiry answered during the call and close it at once, the answer in its history."""
    result = kind_of(submission.kind).answered_on_the_spot
    if result is None:
        raise ActionError(_("只有咨询可以当场答复办结；投诉、举报请提交受理。"))
    if not answer.strip():
        raise ActionError(_("请写明当场答复的内容。"))
    case, code = _file(call, user, submission, township, village)
    # Stored and closed in one transaction: the routing job enqueued after it finds the case closed.
    case.result = result
    case.reply_text = answer.strip()
    event = transition(case, "answer", user, reason=answer.strip(), data={"result": result})
    _sms_receipt(case, "hotline_answered", event, code)
    db.session.flush()
    return case, code


def _sms_receipt(case: Case, template: str, event, code: str) -> None:
    # Urgent: the caller is on the line now and expects it now, quiet hours or not. The lookup
    # code is a secret: it reaches the gateway but the stored body shows a mask.
    tell_citizen(case, template, event, urgent=True, secret={"lookup_code": code})


def receipt_sms(case: Case) -> dict:
    """What the console tells the operator of the receipt SMS: the number it went to, or that the
    caller's number is a landline (no SMS can reach it: read the number and code back)."""
    phone = case.complainant_phone
    if may_text(case):
        return {"sms_to": display_number(phone), "landline": False}
    return {"sms_to": "", "landline": bool(phone) and not case.anonymous}


def _file(
    call: Call, user: User, submission: Submission, township: Division | None, village: Division | None
) -> tuple[Case, str]:
    """Claim the call and store its case; the request commits both with the receipt.

    The router has no field for a township picked by hand, so the operator's township and
    village go at the front of the business address, which the router reads first (a place
    named there routes with the highest confidence); the industry goes in as the hint.
    """
    submission = replace(
        submission,
        channel=Channel.HOTLINE,
        business_address=_with_place(submission.business_address, township, village),
    )
    _claim(call, user, "file")
    case, code = submit_case(submission, actor=user)
    # An anonymous tip stays anonymous: no row ties the caller's number to it.
    if not case.anonymous:
        call.case_id = case.id
    return case, code


def _with_place(address: str, township: Division | None, village: Division | None) -> str:
    """The address with the chosen county, township and village in front, unless it names them."""
    if township is None:
        return address
    county = db.session.get(Division, township.parent_code) if township.parent_code else None
    parts = [d.name for d in (county, township, village) if d is not None and d.name not in address]
    return ("".join(parts) + address)[:300]


def earlier_cases(user: User, call: Call) -> list[dict]:
    """The caller's earlier cases this user may see, newest first; each look is logged once per call.

    A tipper who did not allow disclosure is left out: linking a number to a tip is identity.
    """
    if not call.caller.startswith("+"):
        return []
    query = (
        visible_cases(user)
        .where(Case.complainant_phone == call.caller)
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(EARLIER_CASES)
    )
    cases = [c for c in db.session.scalars(query) if may_see_identity(user, c)]
    purpose = f"hotline_call:{call.id}"
    logged = set(db.session.scalars(sa.select(PersonalDataAccess.case_id).filter_by(user_id=user.id, purpose=purpose)))
    for case in cases:
        if case.id not in logged:
            log_identity_view(user, case, purpose)
    return [
        {
            "id": c.id,
            "tracking_no": c.tracking_no,
            "status": c.status.value,
            "status_label": str(STATUS_LABELS[c.status]),
            "received": local_time(c.received_at),
            "business_name": c.business_name,
            "kind": c.kind.value,
        }
        for c in cases
    ]


def call_view(call: Call, user: User | None = None, with_history: bool = False) -> dict:
    """A call as the console shows it; the caller's earlier cases only for the operator on it."""
    view = {
        "id": call.id,
        "call_id": call.call_id,
        "caller": call.caller,
        "caller_display": display_number(call.caller),
        "line": call.line,
        "started_at": local_time(call.started_at, "%H:%M:%S"),
        "status": call.status.value,
    }
    if with_history and user is not None:
        view["earlier"] = earlier_cases(user, call)
    return view


def feed(user: User) -> dict:
    """What the console needs now: the ringing calls and this operator's current call."""
    current = current_call(user)
    return {
        "ringing": [call_view(c) for c in ringing_calls()],
        "current": call_view(current, user, with_history=True) if current else None,
        "may_take": role_may(user, "hotline.take"),
    }


def display_number(caller: str) -> str:
    """A number as an operator reads it: 138 1234 5678, 0577 6712 3456; as given when unparsable."""
    try:
        number = phonenumbers.parse(caller, None)
    except phonenumbers.NumberParseException:
        return caller
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def readable(digits: str) -> list[str]:
    """Digits in groups of three for reading back over the phone, never leaving one alone."""
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2] + groups[-1]]
    return groups
