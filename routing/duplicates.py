"""Probable duplicates (重复件): the same business and the same matter within 30 days."""

import functools
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

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


_MASTER = aliased(Case)
# The business's other open cases of the window, with the master of those that are duplicates:
# plain rows, the statement built once
_EARLIER = (
    sa.select(
        Case.id,
        Case.tracking_no,
        Case.description,
        Case.complainant_phone,
        _MASTER.id.label("master_id"),
        _MASTER.tracking_no.label("master_no"),
    )
    .outerjoin(_MASTER, _MASTER.id == Case.duplicate_of_id)
    .where(
        Case.business_id == sa.bindparam("business_id"),
        Case.id != sa.bindparam("case_id"),
        Case.status.in_(OPEN_STATUSES),
        Case.received_at >= sa.bindparam("since"),
        Case.received_at <= sa.bindparam("until"),
    )
)


def flag_duplicate(case: Case) -> int | None:
    """Link the case to the open case about the same business and matter it most resembles.

    It may run before the case's changes are flushed (dispatch_to does, so that the case's row is
    written once): the business is read from the relationship when one was set. Returns the
    master's id (set as case.duplicate_of_id), or None."""
    business = sa.inspect(case).dict.get("business")  # set (link_business) but perhaps not flushed yet
    if business is not None:
        business_id = business.id  # None for one made just now: no other case can name it yet
    else:
        business_id = case.business_id
    if business_id is None:
        return None
    params = {
        "business_id": business_id,
        "case_id": case.id if case.id is not None else -1,
        "since": case.received_at - WINDOW,
        "until": case.received_at,
    }
    if case.id is None or _other_cases_changed(case):
        earlier = db.session.execute(_EARLIER, params).all()
    else:  # nothing unflushed could change the answer
        with db.session.no_autoflush:
            earlier = db.session.execute(_EARLIER, params).all()
    best, best_score, best_text = None, 0.0, 0.0
    for other in earlier:
        text = score = similarity(case.description, other.description)
        if case.complainant_phone and case.complainant_phone == other.complainant_phone:
            score += 0.2  # the same person writing again about the same shop
        if score > best_score:
            best, best_score, best_text = other, score, text
    if best is None or best_score < THRESHOLD:
        return None
    if best.master_id is not None:  # it is itself a duplicate: its master is the master
        master_id, master_no = best.master_id, best.master_no
    else:
        master_id, master_no = best.id, best.tracking_no
    case.duplicate_of_id = master_id
    # The history says how alike the two stories are, never that one number sent both: that
    # would tie a tipper to their other cases for everyone who reads the history.
    record(
        case,
        "flag_duplicate",
        reason=f"疑似与 {master_no} 重复（内容相似度 {best_text:.0%}）",
        public=False,
        data={"master": master_no, "score": round(best_score, 3)},
    )
    return master_id


def _other_cases_changed(case: Case) -> bool:
    session = db.session
    return any(isinstance(obj, Case) and obj is not case for obj in (*session.new, *session.dirty, *session.deleted))
