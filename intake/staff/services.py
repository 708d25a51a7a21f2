"""One service per staff action; each checks who may do it, then makes one transition."""
import sqlalchemy as sa
from flask_babel import gettext as _

from intake.accounts.models import Role, User
from intake.cases.kinds import RESULTS, kind_of
from intake.cases.models import Case, CaseStatus, PersonalDataAccess, case_co_handler
from intake.cases.workflow import TransitionError, allowed_actions, transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.types import utcnow
from notify.services import tell_citizen, tell_staff

PLATFORM_ROLES = {Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR}


class ActionError(Exception):
    """An action the user may not take now; the message is for the user."""


def visible_cases(user: User) -> sa.Select:
    """The cases this user may see: their department's or township's, or their county's."""
    query = sa.select(Case)
    if user.role is Role.DEPARTMENT:
        co = sa.select(case_co_handler.c.case_id).where(
            case_co_handler.c.department_id == user.department_id)
        return query.where(sa.or_(Case.lead_department_id == user.department_id, Case.id.in_(co)))
    if user.role is Role.TOWNSHIP:
        return query.where(Case.township_code == user.township_code)
    if user.county_code:
        return query.where(sa.or_(Case.county_code == user.county_code, Case.county_code.is_(None)))
    return query


def queue(user: User, statuses=None, limit: int = 200) -> list[Case]:
    """Open cases for this user, most urgent and newest first."""
    query = visible_cases(user).where(Case.status != CaseStatus.CLOSED)
    if statuses:
        query = query.where(Case.status.in_(statuses))
    query = query.order_by(Case.urgent.desc(), Case.received_at.desc()).limit(limit)
    return list(db.session.scalars(query))


def visible_business_cases(user: User, business) -> list[Case]:
    """The business's cases that this user may see, newest first."""
    query = visible_cases(user).where(Case.business_id == business.id)
    return list(db.session.scalars(query.order_by(Case.received_at.desc())))


def get_visible_case(user: User, case_id: int) -> Case | None:
    return db.session.scalar(visible_cases(user).where(Case.id == case_id))


def may_see_identity(user: User, case: Case) -> bool:
    """Need to know: a hidden tipper is seen by nobody; a complainant by the handling staff."""
    if case.identity_hidden:
        return False
    if user.role is Role.DEPARTMENT:
        return case.lead_department_id == user.department_id
    return user.role in PLATFORM_ROLES


def log_identity_view(user: User, case: Case, purpose: str) -> None:
    db.session.add(PersonalDataAccess(user_id=user.id, case_id=case.id, purpose=purpose))
    db.session.commit()


def is_lead_department(user: User, case: Case) -> bool:
    """The user works for the department that leads the case."""
    return user.role is Role.DEPARTMENT and case.lead_department_id == user.department_id


def actions_for(user: User, case: Case) -> set[str]:
    if not is_lead_department(user, case):
        return set()
    # closing is the callback's outcome (回访), not the department's
    actions = allowed_actions(case) & {"sign", "return", "accept", "reply"}
    if "return" in actions and not return_window_open(case):
        actions.discard("return")
    if "accept" in actions and (not kind_of(case.kind).accepts or case.accepted_at is not None):
        actions.discard("accept")
    return actions


def return_window_open(case: Case) -> bool:
    """退单 is allowed within the return window after dispatch (RULES.md: 2 working days)."""
    window = next((c for c in reversed(case.clocks) if c.name == "return"), None)
    return window is None or (window.stopped_at is None and utcnow() <= window.due_at)


def _check(user: User, case: Case, action: str) -> None:
    if action not in actions_for(user, case):
        raise ActionError(_("您不能对这件案件执行此操作，或案件状态已经改变，请刷新后再试。"))


def sign_case(case: Case, user: User) -> None:
    """签收: the lead department takes the case on."""
    _check(user, case, "sign")
    transition(case, "sign", user)
    db.session.commit()


def return_case(case: Case, user: User, reason: str) -> None:
    """退单: send a misrouted case back to the dispatchers, with a reason."""
    if "return" in allowed_actions(case) and not return_window_open(case):
        raise ActionError(_("已超过退单期限（派单后2个工作日），不能退单；确属错派请联系派单员协调。"))
    _check(user, case, "return")
    if not reason.strip():
        raise ActionError(_("退单必须写明理由。"))
    case.lead_department = None
    case.co_handlers = []
    transition(case, "return", user, reason=reason.strip(), public=False)
    db.session.commit()


def accept_case(case: Case, user: User) -> None:
    """受理: the department takes a complaint on for mediation; the resolve clock starts."""
    _check(user, case, "accept")
    event = transition(case, "accept", user, reason=_("决定受理，组织调解"))
    case.accepted_at = event.at
    resolve = case.running_clock("resolve")
    due = deadline_text(resolve.due_at) if resolve else ""
    tell_citizen(case, "case_accepted", event, due=due)
    db.session.commit()


def reply_case(case: Case, user: User, result: str, text: str) -> None:
    """办结: record the result and the reply the citizen will read."""
    _check(user, case, "reply")
    outcome = kind_of(case.kind).results.get(result)
    if outcome is None:
        raise ActionError(_("请选择办理结果。"))
    if outcome.needs_acceptance and case.accepted_at is None:
        raise ActionError(_("调解结果须在决定受理之后填写；不受理请选择“不予受理”并说明理由。"))
    if not text.strip() or (outcome.needs_reason and len(text.strip()) < 5):
        raise ActionError(_("请写明答复内容；不予受理、不予立案或调解终止须说明理由。"))
    case.result = result
    case.reply_text = text.strip()
    event = transition(case, "reply", user, reason=outcome.label, data={"result": result})
    if outcome.needs_reason:  # a refusal or an end without agreement says why, in the SMS itself
        tell_citizen(case, outcome.template, event, result=outcome.label.split("（")[0],
                     reason=case.reply_text)
    else:
        tell_citizen(case, outcome.template, event, result=outcome.label)
    from intake.callbacks.services import schedule  # the callback needs this module's ActionError

    schedule(case, event.at)
    db.session.commit()


def is_supervisor(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN)


def may_reopen(user: User, case: Case) -> bool:
    return is_supervisor(user) and "reopen" in allowed_actions(case)


def reopen_case(case: Case, user: User, reason: str) -> None:
    """发回重办: a supervisor sends a replied case back to its department; the rework clock starts."""
    if not may_reopen(user, case):
        raise ActionError(_("只有督办人员可以将已办结答复的案件发回重办。"))
    if not reason.strip():
        raise ActionError(_("发回重办须写明理由。"))
    event = transition(case, "reopen", user, reason=reason.strip())
    rework = case.running_clock("rework")
    tell_staff(case, "case_reopened", event, due=deadline_text(rework.due_at) if rework else "")
    db.session.commit()


__all__ = ["ActionError", "TransitionError", "RESULTS"]
