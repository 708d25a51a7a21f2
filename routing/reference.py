"""Changing reference data: one function per change, each writing an audited `reference_change` row.

The administrator's pages (/admin/reference/…) and the commands (`flask routing set-rule`,
`flask routing add-term`, `flask divisions alias`) call these. They add and flush; the request or
the command commits, and once that commit is through every web and worker process rebuilds its
router (`invalidate_router` bumps the version in Redis that `get_router` checks).
"""

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.kinds import KIND_LABELS
from intake.extensions import db
from intake.reference.models import (
    Department,
    Division,
    DivisionLevel,
    Industry,
    IndustryTerm,
    ReferenceChange,
    RoutingRule,
    SmsKeyword,
)
from routing.services import invalidate_router

_CHANGED = "reference_changed"
COMMAND_LINE = "命令行"
WEIGHT_MIN, WEIGHT_MAX = 0.0, 10.0


class ReferenceDataError(Exception):
    """A change that may not be made; the message is for the administrator."""


@event.listens_for(Session, "after_commit")
def _rebuild_routers(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        invalidate_router()


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    session.info.pop(_CHANGED, None)


def record(table: str, key: str, before: dict | None, after: dict | None, actor=None) -> ReferenceChange | None:
    """Write the audit row for one change (nothing when nothing changed); routers rebuild after commit."""
    if before == after:
        return None
    row = ReferenceChange(table=table, key=key, before=before, after=after, user_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    db.session.info[_CHANGED] = True
    return row


def changed_keys(table: str) -> set[str]:
    """The keys of `table` an administrator or a command changed or deleted: `flask seed` leaves them."""
    return set(db.session.scalars(sa.select(ReferenceChange.key).where(ReferenceChange.table == table)))


def recent_changes(tables: list[str], key_prefix: str = "", limit: int = 20) -> list[tuple[ReferenceChange, str]]:
    """The latest audit rows of these tables (keys starting with key_prefix), each with who made it."""
    query = sa.select(ReferenceChange).where(ReferenceChange.table.in_(tables))
    if key_prefix:
        query = query.where(ReferenceChange.key.startswith(key_prefix, autoescape=True))
    rows = db.session.scalars(query.order_by(ReferenceChange.id.desc()).limit(limit)).all()
    ids = {r.user_id for r in rows if r.user_id}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [(r, names.get(r.user_id, COMMAND_LINE) if r.user_id else COMMAND_LINE) for r in rows]


# --- counties and their departments ------------------------------------------------------------


def county(code: str) -> Division:
    division = db.session.get(Division, code)
    if division is None or division.level is not DivisionLevel.COUNTY:
        raise ReferenceDataError(_("没有这个县（市、区）：%(code)s。", code=code))
    return division


def department_kinds(county_code: str) -> set[str]:
    return set(db.session.scalars(sa.select(Department.kind).filter_by(county_code=county_code)))


def rename_department(county_code: str, kind: str, name: str, actor=None) -> Department:
    county(county_code)
    row = db.session.scalar(sa.select(Department).filter_by(county_code=county_code, kind=kind))
    if row is None:
        raise ReferenceDataError(_("该县没有“%(kind)s”类部门。", kind=kind))
    name = (name or "").strip()
    if not 2 <= len(name) <= 64:
        raise ReferenceDataError(_("部门名称须为 2 到 64 个字。"))
    before = {"name": row.name}
    row.name = name
    record("department", f"{county_code}|{kind}", before, {"name": name}, actor)
    return row


# --- the routing table -------------------------------------------------------------------------


def _rule_data(rule: RoutingRule | None) -> dict | None:
    return None if rule is None else {"lead": rule.lead_kind, "co_handlers": list(rule.co_handler_kinds or [])}


def set_rule(county_code: str, industry: str, lead: str, co_handlers: list[str], actor=None) -> RoutingRule:
    """One county's lead department and co-handlers for an industry (overrides the '*' row)."""
    division = county(county_code)
    if db.session.get(Industry, industry) is None or industry == "other":
        raise ReferenceDataError(_("没有这个行业：%(code)s。", code=industry))
    kinds = department_kinds(county_code)
    co_handlers = [k for i, k in enumerate(co_handlers) if k and k not in co_handlers[:i]]
    for kind in [lead, *co_handlers]:
        if kind not in kinds:
            raise ReferenceDataError(_("%(county)s没有“%(kind)s”类部门。", county=division.name, kind=kind))
    if lead in co_handlers:
        raise ReferenceDataError(_("牵头部门不能同时是配合部门。"))
    rule = db.session.scalar(sa.select(RoutingRule).filter_by(county_code=county_code, industry_code=industry))
    before = _rule_data(rule)
    if rule is None:
        rule = RoutingRule(county_code=county_code, industry_code=industry)
        db.session.add(rule)
    rule.lead_kind, rule.co_handler_kinds = lead, co_handlers
    record("routing_rule", f"{county_code}|{industry}", before, _rule_data(rule), actor)
    return rule


def reset_rule(county_code: str, industry: str, actor=None) -> bool:
    """Drop the county's own row for an industry, so the '*' row applies again."""
    county(county_code)
    rule = db.session.scalar(sa.select(RoutingRule).filter_by(county_code=county_code, industry_code=industry))
    if rule is None:
        return False
    before = _rule_data(rule)
    db.session.delete(rule)
    record("routing_rule", f"{county_code}|{industry}", before, None, actor)
    return True


def routing_table(county_code: str) -> list[dict]:
    """Per industry: the rule in force for the county and whether it is the county's own."""
    rules = {
        (r.county_code, r.industry_code): r
        for r in db.session.scalars(sa.select(RoutingRule).where(RoutingRule.county_code.in_([county_code, "*"])))
    }
    rows = []
    for industry in db.session.scalars(sa.select(Industry).where(Industry.code != "other").order_by(Industry.position)):
        own = rules.get((county_code, industry.code))
        rule = own or rules.get(("*", industry.code))
        rows.append({"industry": industry, "rule": rule, "own": own is not None})
    return rows


# --- the classifier's terms --------------------------------------------------------------------


def _term_data(row: IndustryTerm | None) -> dict | None:
    return None if row is None else {"weight": row.weight, "note": row.note}


def set_term(term: str, industry: str, weight: float, note: str = "", actor=None) -> IndustryTerm:
    """Teach the classifier a word or give it another weight (0 only blocks shorter words inside it)."""
    term = (term or "").strip()
    if not 1 <= len(term) <= 64:
        raise ReferenceDataError(_("词语须为 1 到 64 个字。"))
    if "|" in term:  # it separates the parts of the audit row's key
        raise ReferenceDataError(_("词语不能含有“|”。"))
    if db.session.get(Industry, industry) is None:
        raise ReferenceDataError(_("没有这个行业：%(code)s。", code=industry))
    if weight is None or not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise ReferenceDataError(_("权重须在 %(min)s 到 %(max)s 之间。", min=WEIGHT_MIN, max=WEIGHT_MAX))
    row = db.session.scalar(sa.select(IndustryTerm).filter_by(term=term, industry_code=industry))
    before = _term_data(row)
    if row is None:
        row = IndustryTerm(term=term, industry_code=industry)
        db.session.add(row)
    row.weight, row.note = float(weight), (note or "").strip()[:200]
    record("industry_term", f"{term}|{industry}", before, _term_data(row), actor)
    return row


def remove_term(term_id: int, actor=None) -> IndustryTerm | None:
    row = db.session.get(IndustryTerm, term_id)
    if row is None:
        return None
    before = _term_data(row)
    db.session.delete(row)
    record("industry_term", f"{row.term}|{row.industry_code}", before, None, actor)
    return row


# --- place-name aliases ------------------------------------------------------------------------


def division(code: str) -> Division:
    row = db.session.get(Division, code)
    if row is None:
        raise ReferenceDataError(_("没有这个区划代码：%(code)s。", code=code))
    return row


def add_alias(code: str, name: str, actor=None) -> bool:
    """Another name people use for a division (an old name, a short form); False if it already had it."""
    row = division(code)
    name = (name or "").strip()
    if not 2 <= len(name) <= 32:
        raise ReferenceDataError(_("别名须为 2 到 32 个字。"))
    aliases = list(row.aliases or [])
    if name in aliases or name == row.name:
        return False
    row.aliases = aliases + [name]  # a new list, so the JSON column is seen as changed
    record("division", code, {"aliases": aliases}, {"aliases": row.aliases}, actor)
    return True


def remove_alias(code: str, name: str, actor=None) -> bool:
    row = division(code)
    aliases = list(row.aliases or [])
    if name not in aliases:
        return False
    row.aliases = [a for a in aliases if a != name]
    record("division", code, {"aliases": aliases}, {"aliases": row.aliases}, actor)
    return True


def divisions_with_aliases(county_code: str) -> list[Division]:
    """The county and its townships and villages that have aliases."""
    townships = sa.select(Division.code).where(Division.parent_code == county_code)
    rows = db.session.scalars(
        sa.select(Division)
        .where(
            sa.or_(
                Division.code == county_code,
                Division.parent_code == county_code,
                Division.parent_code.in_(townships),
            )
        )
        .order_by(Division.code)
    ).all()
    return [r for r in rows if r.aliases]


# --- the SMS keywords --------------------------------------------------------------------------

# What a word makes an inbound SMS: a kind (the first, in this order, whose word the text has) or urgent.
SMS_MEANINGS = {
    "tip": KIND_LABELS["tip"],
    "inquiry": KIND_LABELS["inquiry"],
    "suggestion": KIND_LABELS["suggestion"],
    "emergency": _l("紧急情况"),
}
SMS_WORD_MAX = 16


def sms_keyword_list() -> list[SmsKeyword]:
    order = {m: i for i, m in enumerate(SMS_MEANINGS)}
    rows = db.session.scalars(sa.select(SmsKeyword).order_by(SmsKeyword.word)).all()
    return sorted(rows, key=lambda r: order.get(r.meaning, len(order)))


def add_sms_keyword(word: str, meaning: str, actor=None) -> SmsKeyword:
    """A word that makes an inbound SMS a tip, inquiry or suggestion, or an emergency (urgent)."""
    word = (word or "").strip()
    if not 1 <= len(word) <= SMS_WORD_MAX:
        raise ReferenceDataError(_("关键词须为 1 到 %(n)d 个字。", n=SMS_WORD_MAX))
    if "|" in word:  # it separates the parts of the audit row's key
        raise ReferenceDataError(_("关键词不能含有“|”。"))
    if meaning not in SMS_MEANINGS:
        raise ReferenceDataError(_("没有这种用途。"))
    existing = db.session.scalar(sa.select(SmsKeyword).filter_by(word=word))
    if existing is not None:
        raise ReferenceDataError(
            _("“%(word)s”已在列表中（%(meaning)s）。", word=word, meaning=SMS_MEANINGS.get(existing.meaning, ""))
        )
    row = SmsKeyword(word=word, meaning=meaning)
    try:
        with db.session.begin_nested():  # the same word added in a request running alongside this one
            db.session.add(row)
    except IntegrityError:
        raise ReferenceDataError(_("“%(word)s”已在列表中。", word=word)) from None
    record("sms_keyword", word, None, {"meaning": meaning}, actor)
    return row


def remove_sms_keyword(keyword_id: int, actor=None) -> SmsKeyword | None:
    row = db.session.get(SmsKeyword, keyword_id)
    if row is None:
        return None
    db.session.delete(row)
    record("sms_keyword", row.word, {"meaning": row.meaning}, None, actor)
    return row
