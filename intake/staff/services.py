"""One service per staff action; each checks who may do it, then makes one transition."""

from flask_babel import gettext as _

from intake.accounts.models import Role, User
from intake.accounts.roles import PLATFORM_ROLES, is_supervisor  # noqa: F401  (read from here too)
from intake.callbacks.services import schedule
from intake.cases.access import (  # noqa: F401  (read from here too)
    get_visible_case,
    log_identity_view,
    may_see_identity,
    visible_business_cases,
    visible_cases,
)
from intake.cases.errors import ActionError
from intake.cases.kinds import RESULTS, kind_of
from intake.cases.models import Case, CaseStatus
from intake.cases.workflow import TransitionError, allowed_actions, transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.types import utcnow
from notify.services import tell_citizen, tell_complainants


def queue(user: User, statuses=None, limit: int = 200) -> list[Case]:
    """Open cases for this user, most urgent and newest first."""
    query = visible_cases(user).where(Case.status != CaseStatus.CLOSED)
    if statuses:
        query = query.where(Case.status.in_(statuses))
    query = query.order_by(Case.urgent.desc(), Case.received_at.desc()).limit(limit)
    return list(db.session.scalars(query))


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
    db.session.flush()


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
    db.session.flush()


def accept_case(case: Case, user: User) -> None:
    """受理: the department takes a complaint on for mediation; the resolve clock starts."""
    _check(user, case, "accept")
    event = transition(case, "accept", user, reason=_("决定受理，组织调解"))
    case.accepted_at = event.at
    resolve = case.running_clock("resolve")
    due = deadline_text(resolve.due_at) if resolve else ""
    tell_citizen(case, "case_accepted", event, due=due)
    db.session.flush()


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
        tell_complainants(case, outcome.template, event, result=outcome.label.split("（")[0], reason=case.reply_text)
    else:  # the complainants of duplicates merged into this case hear the reply too
        tell_complainants(case, outcome.template, event, result=outcome.label)
    schedule(case, event.at)
    db.session.flush()


__all__ = ["ActionError", "PLATFORM_ROLES", "TransitionError", "RESULTS", "is_supervisor"]
