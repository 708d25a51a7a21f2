"""One service per staff action; each checks who may do it, then makes one transition."""

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from intake.accounts.models import Role, User
from intake.accounts.roles import PLATFORM_ROLES, is_supervisor  # noqa: F401  (read from here too)
from intake.callbacks.services import schedule
from intake.cases.access import (  # noqa: F401  (read from here too)
    get_visible_case,
    identity_visible,
    log_identity_view,
    may_see_identity,
    routing_candidates,
    routing_reasons,
    visible_business_cases,
    visible_cases,
)
from intake.cases.clocks import WINDOWS
from intake.cases.errors import ActionError
from intake.cases.events import record
from intake.cases.kinds import RESULTS, CaseKind, kind_of
from intake.cases.models import Case, CaseEvent, CaseStatus, Clock
from intake.cases.workflow import TransitionError, allowed_actions, transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.reference.models import Division, DivisionLevel, Industry
from intake.types import utcnow
from notify.services import tell_citizen, tell_complainants, tell_staff
from routing.calendar import to_local

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilter:
    """What the clerk narrowed the queue to (validated by intake.staff.forms.QueueFilterForm)."""

    status: CaseStatus | None = None
    kind: CaseKind | None = None
    industry: str | None = None
    township: str | None = None
    overdue: bool = False
    q: str = ""


@dataclass
class QueuePage:
    cases: list[Case]
    total: int
    page: int
    pages: int
    marks: dict[int, set[str]] = field(default_factory=dict)  # case id -> {"red", "amber", "escalated", "problem"}


def _running_deadlines():
    """Running clocks that are deadlines (not the 退单 window, which only bounds what staff may do)."""
    return sa.and_(Clock.case_id == Case.id, Clock.stopped_at.is_(None), Clock.name.not_in(WINDOWS))


def _overdue(now):
    return sa.exists().where(_running_deadlines(), Clock.due_at <= now)


def _open_cases(user: User) -> sa.Select:
    return visible_cases(user).where(Case.status != CaseStatus.CLOSED)


def queue_query(user: User, f: QueueFilter, now=None) -> sa.Select:
    """The user's open cases as filtered, the next deadline first (cases with none last)."""
    now = now or utcnow()
    query = _open_cases(user)
    if f.status:
        query = query.where(Case.status == f.status)
    if f.kind:
        query = query.where(Case.kind == f.kind)
    if f.industry:
        query = query.where(Case.industry_code == f.industry)
    if f.township:
        query = query.where(Case.township_code == f.township)
    if f.overdue:
        query = query.where(_overdue(now))
    if f.q:
        text = f.q.strip()
        found = [Case.tracking_no.contains(text, autoescape=True), Case.business_name.contains(text, autoescape=True)]
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 4 and re.fullmatch(r"[\d\s+\-]+", text):
            # a phone only where the user may see who called: a hidden tipper's number finds nothing
            found.append(sa.and_(identity_visible(user), Case.complainant_phone.contains(digits, autoescape=True)))
        query = query.where(sa.or_(*found))
    next_due = sa.select(sa.func.min(Clock.due_at)).where(_running_deadlines()).scalar_subquery()
    return query.order_by(next_due.is_(None), next_due, Case.urgent.desc(), Case.received_at, Case.id)


def queue_page(user: User, f: QueueFilter, page: int = 1, per_page: int = PAGE_SIZE, now=None) -> QueuePage:
    """One page of the queue; a page past the end is empty (the view says so)."""
    now = now or utcnow()
    query = queue_query(user, f, now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(
        query.options(selectinload(Case.clocks), selectinload(Case.township), selectinload(Case.industry))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return QueuePage(
        cases=list(rows),
        total=total,
        page=page,
        pages=max(1, -(-total // per_page)),
        marks={c.id: case_marks(c, now) for c in rows},
    )


def filter_choices(user: User) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(industries, townships) the queue's filters offer this user: the county's townships, none for a township."""
    industries = db.session.execute(sa.select(Industry.code, Industry.name).order_by(Industry.position)).all()
    townships = []
    if user.role is not Role.TOWNSHIP and user.county_code:
        townships = db.session.execute(
            sa.select(Division.code, Division.name)
            .where(Division.parent_code == user.county_code, Division.level == DivisionLevel.TOWNSHIP)
            .order_by(Division.code)
        ).all()
    return [tuple(r) for r in industries], [tuple(r) for r in townships]


def division_name(code: str) -> str:
    return db.session.scalar(sa.select(Division.name).where(Division.code == code)) or code


def case_marks(case: Case, now=None) -> set[str]:
    """red: a deadline passed; amber: one comes near; escalated: 督办; problem: returned or reopened 3 times."""
    now = now or utcnow()
    running = [c for c in case.clocks if c.stopped_at is None and c.name not in WINDOWS]
    marks = set()
    if any(c.due_at <= now for c in running):
        marks.add("red")
    elif any(c.amber_at is not None and c.amber_at <= now for c in running):
        marks.add("amber")
    if case.escalated_at is not None:
        marks.add("escalated")
    if case.problem_at is not None:
        marks.add("problem")
    return marks


def queue_counts(user: User, now=None) -> dict[str, int]:
    """The figures at the top of the queue: open cases by state, then red, amber, 督办 and problem cases."""
    now = now or utcnow()
    base = _open_cases(user).order_by(None).subquery()
    counts = {
        status.value: n
        for status, n in db.session.execute(sa.select(base.c.status, sa.func.count()).group_by(base.c.status))
    }
    ids = sa.select(base.c.id)
    amber = sa.exists().where(_running_deadlines(), Clock.amber_at <= now)

    def count(*conditions) -> int:
        return db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.id.in_(ids), *conditions)) or 0

    counts["red"] = count(_overdue(now))
    counts["amber"] = count(amber, ~_overdue(now))
    counts["escalated"] = count(Case.escalated_at.is_not(None))
    counts["problem"] = count(Case.problem_at.is_not(None))
    return counts


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
