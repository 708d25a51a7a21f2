"""One service per staff action; each checks who may do it, then makes one transition."""

from datetime import date

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
from intake.cases.events import record
from intake.cases.kinds import RESULTS, kind_of
from intake.cases.models import Case, CaseEvent, CaseStatus
from intake.cases.workflow import TransitionError, allowed_actions, transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.types import utcnow
from notify.services import tell_citizen, tell_staff
from routing.calendar import to_local


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
        tell_citizen(case, outcome.template, event, result=outcome.label.split("（")[0], reason=case.reply_text)
    else:
        tell_citizen(case, outcome.template, event, result=outcome.label)
    schedule(case, event.at)
    db.session.flush()


# --- 协办: the township's site visits and the co-handling departments' opinions -----------------

SITE_VISIT, CO_OPINION = "site_visit", "co_opinion"
PARTICIPATION_EVENTS = (SITE_VISIT, CO_OPINION)
MAX_NOTE = 2000


def may_record_site_visit(user: User, case: Case) -> bool:
    """Staff of the township where the business is (属地) record what they found on the spot."""
    return user.role is Role.TOWNSHIP and bool(case.township_code) and user.township_code == case.township_code


def may_add_co_handler_opinion(user: User, case: Case) -> bool:
    """A department named as co-handler (配合部门), not the lead, adds its opinion."""
    return (
        user.role is Role.DEPARTMENT
        and not is_lead_department(user, case)
        and any(d.id == user.department_id for d in case.co_handlers)
    )


def _check_open(case: Case) -> None:
    if case.status is CaseStatus.CLOSED:
        raise ActionError(_("案件已结案，不能再添加协办意见。"))


def _note_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionError(_("请写明%(what)s。", what=what))
    if len(text) > MAX_NOTE:
        raise ActionError(_("%(what)s不能超过%(n)d个字。", what=what, n=MAX_NOTE))
    return text


def local_today() -> date:
    return to_local(utcnow()).date()


def record_site_visit(case: Case, user: User, visited_on: date, findings: str) -> CaseEvent:
    """协办意见 of the township: the day of the site visit and what was found; staff only."""
    if not may_record_site_visit(user, case):
        raise ActionError(_("只有案件所在乡镇（街道）的工作人员可以登记现场核查情况。"))
    _check_open(case)
    if visited_on is None:
        raise ActionError(_("请填写核查日期。"))
    if visited_on > local_today():
        raise ActionError(_("核查日期不能晚于今天。"))
    if visited_on < to_local(case.received_at).date():
        raise ActionError(_("核查日期不能早于案件受理日期。"))
    text = _note_text(findings, _("核查情况"))
    event = record(case, "site_visit", user, reason=text, data={"visited_on": visited_on.isoformat()}, public=False)
    _tell_lead_department(case, event, case.township.name if case.township else user.display_name)
    db.session.flush()
    return event


def add_co_handler_opinion(case: Case, user: User, opinion: str) -> CaseEvent:
    """协办意见 of a co-handling department; staff only."""
    if not may_add_co_handler_opinion(user, case):
        raise ActionError(_("只有本案的配合部门可以提出协办意见。"))
    _check_open(case)
    text = _note_text(opinion, _("协办意见"))
    event = record(case, "co_opinion", user, reason=text, public=False)
    _tell_lead_department(case, event, user.department.name if user.department else user.display_name)
    db.session.flush()
    return event


def _tell_lead_department(case: Case, event: CaseEvent, who: str) -> None:
    """The lead department hears of a new 协办意见 (the township does not hear of its own)."""
    if case.lead_department_id:
        tell_staff(case, "co_handling_note", event, township=False, who=who)


def participation_notes(case: Case) -> list[CaseEvent]:
    """The township's findings and the co-handlers' opinions, by the day they concern, then as written."""

    def day(e: CaseEvent) -> str:
        return (e.data or {}).get("visited_on") or to_local(e.at).date().isoformat()

    notes = [e for e in case.events if e.action in PARTICIPATION_EVENTS]
    return sorted(notes, key=lambda e: (day(e), e.at, e.id))


__all__ = ["ActionError", "PLATFORM_ROLES", "TransitionError", "RESULTS", "is_supervisor"]
