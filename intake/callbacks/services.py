"""回访: the satisfaction callback after each reply, and the supervisors' review of 不满意.

reply → a Callback to ask on the next working day → the survey SMS (1 满意 / 2 基本满意 / 3 不满意),
or an operator's call → satisfied: the case closes; dissatisfied: a supervisor reopens it (the
rework clock starts) or confirms the reply; no answer within CALLBACK_ANSWER_DAYS working days:
the case closes as no response.
"""

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from intake.accounts.models import User
from intake.authz import case_condition, may
from intake.callbacks.models import CALLBACK_ANSWERS, CALLBACK_REVIEWS, Answer, Callback, Review
from intake.cases.clocks import stop_clock, work_calendar
from intake.cases.errors import ActionError
from intake.cases.models import Case, CaseStatus
from intake.cases.workflow import allowed_actions, record, transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.types import utcnow
from notify.services import tell_complainants, tell_staff
from routing.calendar import TZ, to_local

ANSWER_LABELS = {
    Answer.SATISFIED: _l("满意"),
    Answer.BASIC: _l("基本满意"),
    Answer.DISSATISFIED: _l("不满意"),
    Answer.NO_RESPONSE: _l("未应答"),
}
SMS_DIGITS = {"1": Answer.SATISFIED, "2": Answer.BASIC, "3": Answer.DISSATISFIED}
ASK_AT = time(9, 0)  # the survey goes out at nine on the working day after the reply


def schedule(case: Case, at: datetime) -> Callback:
    """After a reply: ask on the next working day (RULES.md, callback clock)."""
    calendar = work_calendar()
    day = calendar.next_working_day(to_local(at).date() + timedelta(days=1))
    callback = Callback(case=case, ask_at=datetime.combine(day, ASK_AT, TZ))
    db.session.add(callback)
    return callback


def open_callback(case: Case) -> Callback | None:
    """The callback of the latest reply still waiting for an answer."""
    return db.session.scalar(
        sa.select(Callback)
        .where(Callback.case_id == case.id, Callback.answer.is_(None))
        .order_by(Callback.id.desc())
        .limit(1)
    )


def ask_due(now: datetime | None = None) -> int:
    """Send the surveys that are due; each is claimed once, whatever the number of sweeps."""
    now = now or utcnow()
    claimed = db.session.scalars(
        sa.update(Callback)
        .where(Callback.asked_at.is_(None), Callback.answer.is_(None), Callback.ask_at <= now)
        .values(asked_at=now, channel="sms")
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    ).all()
    answer_due = work_calendar().add_working_days(now, current_app.config["CALLBACK_ANSWER_DAYS"])
    for callback_id in claimed:
        callback = db.session.get(Callback, callback_id)
        case = callback.case
        callback.answer_due_at = answer_due
        stop_clock(case, "callback", now)
        event = record(case, "callback_asked", reason=_("发送满意度回访短信"), public=False)
        if not tell_complainants(case, "survey", event):
            # nobody to ask (an anonymous tip, no mobile, no merged complainant): nothing to wait for
            _answer(callback, Answer.NO_RESPONSE, "sms", None, _("无联系方式，未回访"), now)
    db.session.flush()
    return len(claimed)


def expire(now: datetime | None = None) -> int:
    """Surveys not answered in time: the case closes as no response."""
    now = now or utcnow()
    claimed = db.session.scalars(
        CALLBACK_ANSWERS.update(Callback, Answer.NO_RESPONSE.value)
        .where(Callback.answer_due_at <= now)
        .values(answered_at=now)
        .returning(Callback.id)
    ).all()
    for callback_id in claimed:
        callback = db.session.get(Callback, callback_id)
        _settle(callback, Answer.NO_RESPONSE, None, _("回访无应答，视为办结"))
    db.session.flush()
    return len(claimed)


def answer_by_sms(phone: str, digit: str) -> Callback | None:
    """A reply of 1, 2 or 3 from the complainant's phone to the survey sent to it; None if none waits.

    The complainant of a duplicate merged into the case was asked too, and may answer it.
    """
    answer = SMS_DIGITS.get(digit.strip())
    if answer is None or not phone:
        return None
    now = utcnow()
    follower = aliased(Case)
    merged = sa.select(follower.merged_into_id).where(
        follower.complainant_phone == phone, follower.merged_into_id.is_not(None)
    )
    callback = db.session.scalar(
        sa.select(Callback)
        .join(Case)
        .where(
            sa.or_(Case.complainant_phone == phone, Case.id.in_(merged)),
            Callback.asked_at.is_not(None),
            Callback.answer.is_(None),
            Callback.answer_due_at > now,
        )
        .order_by(Callback.asked_at.desc())
        .limit(1)
        .with_for_update(of=Callback)
    )
    if callback is None:
        return None
    _answer(callback, answer, "sms", None, "", now)
    db.session.flush()
    return callback


def record_by_phone(case: Case, user: User, answer: str, note: str = "") -> Callback:
    """An operator called the complainant and records what they said."""
    if not may(user, "case.phone_callback", case):
        raise ActionError(_("只有话务员、派单员或督办人员可以登记电话回访。"))
    try:
        value = Answer(answer)
    except ValueError:
        raise ActionError(_("请选择回访结果。")) from None
    callback = open_callback(case)
    if callback is None or case.status is not CaseStatus.REPLIED:
        raise ActionError(_("这件案件目前没有待回访的答复。"))
    _answer(callback, value, "phone", user, note.strip(), utcnow())
    db.session.flush()
    return callback


def _answer(callback: Callback, answer: Answer, channel: str, user: User | None, note: str, now: datetime) -> None:
    CALLBACK_ANSWERS.move(callback, answer.value)
    callback.answered_at, callback.channel = now, channel
    callback.recorded_by_id = getattr(user, "id", None)
    callback.note = note
    stop_clock(callback.case, "callback", now)
    _settle(callback, answer, user, note)


def _settle(callback: Callback, answer: Answer, user: User | None, note: str) -> None:
    """Satisfied or no answer: the case closes; dissatisfied: it waits for a supervisor."""
    case = callback.case
    label = str(ANSWER_LABELS[answer])
    reason = _("回访结果：%(a)s", a=label) + (f"（{note}）" if note else "")
    if answer is Answer.DISSATISFIED:
        CALLBACK_REVIEWS.move(callback, "await_review")
        record(case, "callback_dissatisfied", user, reason=reason, public=True, data={"callback_id": callback.id})
    elif case.status is CaseStatus.REPLIED:
        transition(case, "close", user, reason=reason, data={"callback": answer.value})
    else:
        record(case, "callback_answered", user, reason=reason, public=False)


def review_list(user: User) -> list[Callback]:
    """不满意 callbacks waiting for this supervisor, oldest first."""
    query = (
        sa.select(Callback)
        .join(Case)
        .where(Callback.review == Review.PENDING, case_condition(user, "callback.review"))
        .order_by(Callback.answered_at)
    )
    return list(db.session.scalars(query))


def review(callback: Callback, user: User, reopen: bool, reason: str) -> None:
    """The supervisor reopens the case for rework or confirms the reply stands (the case closes)."""
    if not may(user, "callback.review", callback.case):
        raise ActionError(_("只有督办人员可以处理不满意件。"))
    if not CALLBACK_REVIEWS.allows(callback, "reopen" if reopen else "confirm"):
        raise ActionError(_("这件不满意件已经处理过了。"))
    if not reason.strip():
        raise ActionError(_("请写明理由。"))
    if reopen:
        reopen_case(callback.case, user, reason)  # checks before it writes: a refusal changes nothing
        callback.reviewed_by_id, callback.reviewed_at = user.id, utcnow()
        CALLBACK_REVIEWS.move(callback, "reopen")
        db.session.flush()
        return
    callback.reviewed_by_id, callback.reviewed_at = user.id, utcnow()
    CALLBACK_REVIEWS.move(callback, "confirm")
    transition(callback.case, "close", user, reason=_("不满意件审核：维持原答复。%(r)s", r=reason.strip()))
    db.session.flush()


def may_reopen(user: User, case: Case) -> bool:
    return may(user, "case.reopen", case) and "reopen" in allowed_actions(case)


def reopen_case(case: Case, user: User, reason: str) -> None:
    """发回重办: a supervisor sends a replied case back to its department; the rework clock starts."""
    if not may_reopen(user, case):
        raise ActionError(_("只有督办人员可以将已办结答复的案件发回重办。"))
    if not reason.strip():
        raise ActionError(_("发回重办须写明理由。"))
    event = transition(case, "reopen", user, reason=reason.strip())
    rework = case.running_clock("rework")
    tell_staff(case, "case_reopened", event, due=deadline_text(rework.due_at) if rework else "")
    db.session.flush()
