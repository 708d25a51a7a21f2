"""Applying a routing decision to a case, and building the router from reference data."""

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from intake.businesses.services import link_business
from intake.cases.models import Case, CaseEvent, Clock
from intake.cases.reasons import kept_apart, public_reasons
from intake.cases.workflow import transition
from intake.extensions import db
from intake.filters import deadline_text
from intake.reference.cache import bump_version, cached, current_version, watch
from intake.reference.models import Department, Division, Industry, IndustryTerm, RoutingRule, SmsKeyword
from intake.reference.seed import department_kind_names
from intake.rows import insert_pending
from intake.types import utcnow
from notify.services import tell_staff
from routing.duplicates import flag_duplicate

_cache: dict = {}
watch("department")  # `department()` reads it through the per-process cache


def refresh_router() -> bool:
    """Rebuild the router if the reference tables changed; True when it was rebuilt."""
    version = current_version()
    if "router" in _cache and _cache.get("version") == version:
        return False
    _cache["router"], _cache["version"] = build_router(), version
    return True


def get_router():
    """The router built from the reference tables, rebuilt when they change."""
    refresh_router()
    return _cache["router"]


def sms_keywords() -> dict[str, tuple[str, ...]]:
    """The SMS keywords by meaning (tip, inquiry, suggestion, emergency), re-read when reference data changes."""
    version = current_version()
    cached = _cache.get("sms_keywords")
    if cached is None or cached[0] != version:
        words: dict[str, list[str]] = {}
        for word, meaning in db.session.execute(sa.select(SmsKeyword.word, SmsKeyword.meaning).order_by(SmsKeyword.id)):
            words.setdefault(meaning, []).append(word)
        cached = _cache["sms_keywords"] = (version, {m: tuple(w) for m, w in words.items()})
    return cached[1]


def invalidate_router() -> None:
    """Tell every process that reference data changed (the router and the SMS keywords)."""
    _cache.pop("router", None)
    _cache.pop("sms_keywords", None)
    bump_version()  # and the per-process reference cache (intake.reference.cache) with them


def build_router():
    """The router for the reference tables as they are now.

    The router's modules (pinyin phrases, OpenCC, phone geodata: ~100 MB) are imported here, when a
    router is first built (by a worker), not when this module is: the web imports it for
    `sms_keywords` and `invalidate_router` and never routes."""
    from routing.router import Reference
    from routing.router import build_router as build_router_for

    divisions = db.session.execute(
        sa.select(Division.code, Division.name, Division.level, Division.parent_code, Division.aliases)
    ).all()
    terms = db.session.execute(sa.select(IndustryTerm.term, IndustryTerm.industry_code, IndustryTerm.weight)).all()
    reference = Reference(
        divisions=[
            {"code": c, "name": n, "level": lvl.value, "parent_code": p or "", "aliases": a or []}
            for c, n, lvl, p, a in divisions
        ],
        terms=[(t, i, w) for t, i, w in terms],
        routing_table={
            (r.county_code, r.industry_code): (r.lead_kind, list(r.co_handler_kinds or []))
            for r in db.session.scalars(sa.select(RoutingRule))
        },
        kind_names=department_kind_names(),
        industry_names=dict(db.session.execute(sa.select(Industry.code, Industry.name)).all()),
    )
    return build_router_for(reference, threshold=current_app.config.get("ROUTING_MIN_CONFIDENCE"))


def case_input(case: Case) -> dict:
    """What the router reads of a case."""
    return {
        "id": case.tracking_no,
        "kind": case.kind.value,
        "channel": case.channel.value,
        "text": case.description,
        "business_name": case.business_name or None,
        "address": case.business_address or None,
        "caller_phone": case.complainant_phone or None,
        "industry_hint": case.industry_hint,
    }


def apply_decision(case: Case, decision) -> None:
    """Dispatch the case to its lead department and township, or send it to triage."""
    reasons = list(decision.reasons)
    case.industry_code = decision.industry
    case.county_code = decision.county
    case.township_code = decision.township
    case.village_code = decision.village
    lead = None
    if not decision.triage:
        lead = department(decision.county, decision.lead_department)
        if lead is None:
            reasons.append(f"该县未配置'{decision.lead_department}'类部门，转人工分拨")
    case.routing = {
        "by": "machine",
        "at": utcnow().isoformat(),
        "triage": decision.triage or lead is None,
        "confidence": round(float(decision.confidence), 3),
        # what the caller's phone told is kept apart (intake.cases.reasons)
        **kept_apart(
            reasons, getattr(decision, "candidates", None) or [], getattr(decision, "public_candidates", None)
        ),
        "industry": decision.industry,
        "county": decision.county,
        "township": decision.township,
        "lead_department": decision.lead_department,
        "co_handlers": list(decision.co_handlers or []),
    }
    said = "；".join(public_reasons(case.routing))  # the history is read by all who handle the case
    if lead is None:
        transition(case, "to_triage", reason=said, public=False)
        return
    dispatch_to(case, lead, decision.co_handlers or [], action="route", reason=said)


def dispatch_to(
    case: Case, lead: Department, co_handler_kinds, action: str, actor=None, reason: str = "", data: dict | None = None
) -> None:
    """Give the case to its lead department (and co-handlers) and start the sign-for clock."""
    case.lead_department = lead
    case.lead_department_id = lead.id  # read before the next flush (tell_staff), which would set it too
    case.co_handlers = [d for k in co_handler_kinds if (d := department(lead.county_code, k))]
    case.routed_at = utcnow()
    # the business and the duplicate check before the first flush: the case's row is written once,
    # its events in one INSERT (the duplicate's after the move's, as they happened)
    link_business(case)
    event = transition(
        case,
        action,
        actor,
        reason=reason,
        public=False,
        data={"lead_department": lead.name, "township": case.township_code, **(data or {})},
    )
    flag_duplicate(case)
    insert_pending(CaseEvent, Clock)  # the move's events and new clocks, one INSERT per table (intake/rows.py)
    sign = case.running_clock("sign")
    tell_staff(case, "case_dispatched", event, due=deadline_text(sign.due_at) if sign else "")
    db.session.flush()


def department(county_code: str | None, kind: str | None) -> Department | None:
    """The county's department of that kind, from the per-process cache of the department table
    (no query): put into this session as a persistent object, as a query would have."""
    if not county_code or not kind:
        return None
    row = _departments().get((county_code, kind))
    if row is None:
        return None
    dept = Department(**row)
    make_transient_to_detached(dept)
    return db.session.merge(dept, load=False)  # the session's own copy if it already holds it


def _departments() -> dict[tuple[str, str], dict]:
    def read():
        columns = (Department.id, Department.county_code, Department.kind, Department.name)
        return {
            (county, kind): {"id": id_, "county_code": county, "kind": kind, "name": name}
            for id_, county, kind, name in db.session.execute(sa.select(*columns))
        }

    return cached("departments", ("department",), read)
