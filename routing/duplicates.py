"""Probable duplicates (重复件): the same business and the same matter within 30 days."""

from datetime import timedelta

import sqlalchemy as sa

from intake.cases.models import OPEN_STATUSES, Case
from intake.cases.workflow import record
from intake.extensions import db
from routing.router.names import normalize  # not gazetteer: that loads the fuzzy matcher

WINDOW = timedelta(days=30)
THRESHOLD = 0.3  # bigram overlap above which two texts tell the same matter


def _bigrams(text: str) -> set[str]:
    chars = [ch for ch in normalize(text) if ch.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


def similarity(a: str, b: str) -> float:
    """Share of character bigrams two texts have in common (Jaccard)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def flag_duplicate(case: Case) -> Case | None:
    """Link the case to the open case about the same business and matter it most resembles."""
    if case.business_id is None:
        return None
    earlier = db.session.scalars(
        sa.select(Case).where(
            Case.business_id == case.business_id,
            Case.id != case.id,
            Case.status.in_(OPEN_STATUSES),
            Case.received_at >= case.received_at - WINDOW,
            Case.received_at <= case.received_at,
        )
    ).all()
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
