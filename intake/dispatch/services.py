"""Dispatcher actions: route by hand, transfer out, merge a duplicate."""

from flask_babel import gettext as _

from intake.accounts.models import User
from intake.authz import case_condition, may, may_see_identity, routing_reasons, visible_cases
from intake.cases.access import log_identity_views
from intake.cases.errors import ActionError
from intake.cases.models import OPEN_STATUSES, Case, CaseStatus
from intake.cases.workflow import record, transition
from intake.extensions import db
from intake.reference.models import Division, DivisionLevel, Industry
from notify.services import tell_citizen
from routing.services import department, dispatch_to, get_router


def triage_queue(user: User) -> list[Case]:
    """Cases waiting for a dispatcher, oldest first."""
    query = visible_cases(user).where(Case.status == CaseStatus.TRIAGE, case_condition(user, "case.dispatch"))
    return list(db.session.scalars(query.order_by(Case.urgent.desc(), Case.received_at)))


def triage_page(user: User) -> tuple[list[Case], dict[int, list[str]]]:
    """The triage queue and the router's reasons each case shows this user. Where those include
    what the caller's phone told (only for who may see the caller's identity), the look is logged
    as a look at the case's personal data, as opening the case would be."""
    cases = triage_queue(user)
    reasons = {c.id: routing_reasons(user, c) for c in cases}
    told_by_phone = [c for c in cases if (c.routing or {}).get("phone_reasons") and may_see_identity(user, c)]
    if told_by_phone:
        log_identity_views(user, told_by_phone, "triage_reasons")
    return cases, reasons


def dispatch_case(case: Case, user: User, township_code: str, industry_code: str, lead_kind: str = "") -> None:
    """Route a triage case by hand; the dispatcher's choice and the machine's guess are both kept."""
    if not may(user, "case.dispatch", case) or case.status is not CaseStatus.TRIAGE:
        raise ActionError(_("您不能分派这件案件，或它已被分派，请刷新后再试。"))
    township = db.session.get(Division, township_code or "")
    if township is None or township.level is not DivisionLevel.TOWNSHIP:
        raise ActionError(_("请选择案件所在的乡镇（街道）。"))
    if db.session.get(Industry, industry_code or "") is None:
        raise ActionError(_("请选择行业。"))
    default_lead, default_co = get_router().lookup(township.parent_code, industry_code) or ("", [])
    lead_kind = lead_kind or default_lead
    lead = department(township.parent_code, lead_kind)
    if lead is None:
        raise ActionError(_("该行业没有默认牵头部门，请选择牵头部门，或转出。"))
    machine = case.routing or {}
    case.industry_code = industry_code
    case.county_code = township.parent_code
    if case.township_code != township.code:
        case.village_code = None
    case.township_code = township.code
    case.routing = {**machine, "by": "dispatcher", "dispatcher": user.display_name}
    co_kinds = default_co if lead_kind == default_lead else []
    correction = {
        "machine_industry": machine.get("industry"),
        "machine_township": machine.get("township"),
        "industry": industry_code,
        "township": township.code,
        "lead_department": lead_kind,
    }
    dispatch_to(
        case,
        lead,
        co_kinds,
        action="dispatch",
        actor=user,
        reason=_("人工分派：%(t)s，%(d)s牵头", t=township.name, d=lead.name),
        data={"correction": correction},
    )
    db.session.flush()


def transfer_out(case: Case, user: User, reason: str) -> None:
    """Close a case that is not this channel's to handle, telling the citizen where to go."""
    if not may(user, "case.dispatch", case):
        raise ActionError(_("只有派单员可以转出案件。"))
    if not reason.strip():
        raise ActionError(_("转出须写明应向哪里反映。"))
    event = transition(case, "transfer_out", user, reason=reason.strip())
    tell_citizen(case, "case_transferred", event, reason=reason.strip())
    db.session.flush()


def may_merge(user: User, case: Case) -> bool:
    master = case.duplicate_of
    if master is None or case.status not in OPEN_STATUSES or master.status not in OPEN_STATUSES:
        return False
    # a department merges only within its own cases; a dispatcher across the county
    return may(user, "case.merge", case) and may(user, "case.merge", master)


def merge_case(case: Case, user: User) -> Case:
    """Close a duplicate into its master case; the citizen sees where it went."""
    if not may_merge(user, case):
        raise ActionError(_("这件案件不能合并，或您无权合并。"))
    master = case.duplicate_of
    event = transition(
        case, "merge", user, reason=_("与 %(no)s 号案件反映同一问题，并入该案件一并办理。", no=master.tracking_no)
    )
    tell_citizen(case, "case_merged", event, master_no=master.tracking_no)
    case.merged_into = master
    record(master, "merged_from", user, reason=case.tracking_no, public=False)
    db.session.flush()
    return master
