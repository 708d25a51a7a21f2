"""Matching a case to its business record, and the businesses supervisors should look at."""

import re
import unicodedata

import sqlalchemy as sa

from intake.businesses.models import Business
from intake.cases.models import Case
from intake.extensions import db
from routing.router.names import normalize  # not gazetteer: that loads the fuzzy matcher

# Legal forms and filler that people add or leave out of a shop's name.
_NOISE = re.compile(r"(有限责任公司|股份有限公司|有限公司|个体工商户|个体户|分公司|经营部|（[^）]*）|\([^)]*\))")
_KEEP = re.compile(r"[\w]")
SUBSTANTIATED = {"mediated", "case_opened", "to_police"}


def name_key(name: str) -> str:
    """A business name reduced to what identifies it: no legal form, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", normalize(name or ""))
    text = _NOISE.sub("", text)
    return "".join(ch for ch in text if _KEEP.match(ch)).lower()


def link_business(case: Case) -> Business | None:
    """Find or create the business record for a routed case (same township, same name)."""
    if not case.township_code:
        return None
    name = case.business_name.strip()
    key = name_key(name) if name else ""
    if not key:
        address_key = name_key(case.business_address)
        if len(address_key) < 6:
            return None  # neither a name nor an address precise enough to tell one shop
        key, name = "@" + address_key, case.business_address
    business = _match(case.township_code, key)
    if business is None:
        business = Business(
            name=name,
            name_key=key,
            address=case.business_address,
            county_code=case.county_code,
            township_code=case.township_code,
            industry_code=case.industry_code,
        )
        db.session.add(business)
    elif not business.address and case.business_address:
        business.address = case.business_address
    case.business = business
    return business


def _match(township_code: str, key: str) -> Business | None:
    candidates = []
    if len(key) >= 3:
        # the rows that can match below (exactly, or one name inside the other), not the township's
        # every business: LIKE lets through at least those, and the tests below pick as before
        query = sa.select(Business).where(
            Business.township_code == township_code,
            sa.or_(
                Business.name_key == key,
                Business.name_key.contains(key, autoescape=True),
                sa.literal(key).contains(Business.name_key),
            ),
        )
        if _business_changes_pending():
            candidates = db.session.scalars(query).all()
        else:  # nothing unflushed could change the answer: the case's own changes wait for one flush
            with db.session.no_autoflush:
                candidates = db.session.scalars(query).all()
    exact = [b for b in candidates if b.name_key == key]
    if exact:
        return exact[0]
    # 好日子大药房 and 好日子大药房罗浮店 are the same shop; a 3-character stem is the least we trust.
    near = [b for b in candidates if min(len(b.name_key), len(key)) >= 3 and (b.name_key in key or key in b.name_key)]
    return near[0] if len(near) == 1 else None


def _business_changes_pending() -> bool:
    session = db.session
    return any(isinstance(obj, Business) for obj in (*session.new, *session.dirty, *session.deleted))


def repeat_offenders(min_cases: int = 2, county_code: str | None = None) -> list[tuple[Business, int]]:
    """Businesses with at least `min_cases` substantiated cases (candidates for the 黑名单)."""
    counted = (
        sa.select(Business, sa.func.count(Case.id).label("n"))
        .join(Case, Case.business_id == Business.id)
        .where(Case.result.in_(SUBSTANTIATED))
        .group_by(Business.id)
        .having(sa.func.count(Case.id) >= min_cases)
        .order_by(sa.desc("n"))
    )
    if county_code:
        counted = counted.where(Business.county_code == county_code)
    return [(b, n) for b, n in db.session.execute(counted).all()]
