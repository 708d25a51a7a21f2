"""Probable duplicates (重复件): the same business and the same matter within 30 days."""

import functools
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from intake.cases.models import OPEN_STATUSES, Case
from intake.cases.workflow import record
from intake.extensions import db
from routing.router.names import normalize  # not gazetteer: that loads the fuzzy matcher

WINDOW = timedelta(days=30)
THRESHOLD = 0.3  # bigram overlap above which two texts tell the same matter


@functools.lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    """A text's character bigrams (kept per process: each open case's story is compared again and
    again with the cases that come after it)."""
    chars = [ch for ch in normalize(text) if ch.isalnum()]
    return frozenset(a + b for a, b in zip(chars, chars[1:]))


def similarity(a: str, b: str) -> float:
    """Share of character bigrams two texts have in common (Jaccard)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def flag_duplicate(case: Case) -> Case | None:
    """Link the case to the open case about the same business and matter it most resembles.

    It may run before the case's changes are flushed (dispatch_to does, so that the case's row is
    written once): the business is read from the relationship when one was set."""
    business = sa.inspect(case).dict.get("business")  # set (link_business) but perhaps not flushed yet
    if business is not None:
        business_id = business.id  # None for one made just now: no other case can name it yet
    else:
        business_id = case.business_id
    if business_id is None:
        return None
    earlier_query = (
        sa.select(Case)
        .options(load_only(Case.id, Case.tracking_no, Case.description, Case.complainant_phone, Case.duplicate_of_id))
        .where(
            Case.business_id == business_id,
            Case.id != case.id,
            Case.status.in_(OPEN_STATUSES),
            Case.received_at >= case.received_at - WINDOW,
            Case.received_at <= case.received_at,
        )
    )
    if case.id is None or _other_cases_changed(case):
        earlier = db.session.scalars(earlier_query).all()
    else:  # nothing unflushed could change the answer
        with db.session.no_autoflush:
            earlier = db.session.scalars(earlier_query).all()
    best, best_score, best_text = None, 0.0, 0.0
    for other in earlier:
        text = score = similarity(case.description, other.description)
        if case.complainant_phone and case.complainant_phone == other.complainant_phone:
            score += 0.2  # the same person writing again about the same shop
        if score > best_score:
            best, best_score, best_text = other, score, text
    if best is None or best_score < THRESHOLD:
        return None
    master = best.duplicate_of or best
    case.duplicate_of = master
    # The history says how alike the two stories are, never that one number sent both: that
    # would tie a tipper to their other cases for everyone who reads the history.
    record(
        case,
        "flag_duplicate",
        reason=f"疑似与 {master.tracking_no} 重复（内容相似度 {best_text:.0%}）",
        public=False,
        data={"master": master.tracking_no, "score": round(best_score, 3)},
    )
    return master


def _other_cases_changed(case: Case) -> bool:
    session = db.session
    return any(isinstance(obj, Case) and obj is not case for obj in (*session.new, *session.dirty, *session.deleted))
