"""Events that record what happened to a case without changing its status."""

from intake.cases.models import Case, CaseEvent
from intake.extensions import db
from intake.types import utcnow

SYSTEM = "系统"


def record(
    case: Case, action: str, actor=None, reason: str = "", data: dict | None = None, public: bool = True
) -> CaseEvent:
    """Write an event that does not change the status (receipt, a note, a clock warning)."""
    event = new_event(action, actor, reason, data, public, **case_link(case))
    db.session.add(event)
    return event


def new_event(
    action: str, actor=None, reason: str = "", data: dict | None = None, public: bool = True, **link
) -> CaseEvent:
    """The event, not yet in the session; `link` names its case (case=… or case_id=…), or is left
    out when whoever stores it fills it in (a filing's receive event: intake.rows.insert_with)."""
    return CaseEvent(
        **link,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label(actor),
        action=action,
        reason=reason,
        public=public,
        data=data,
    )


def case_link(case: Case) -> dict:
    """The event's link to its case: by id when the case is stored and its events are not loaded
    (nothing holds a list the event would be missing from; the next read of case.events finds it),
    else through the relationship, which also appends it to the loaded case.events. The id alone
    keeps a stored case clean, so a filing's flushes have nothing to do (intake/rows.py)."""
    if case.id is not None and "events" not in case.__dict__:
        return {"case_id": case.id}
    return {"case": case}


def actor_label(actor) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return actor.display_name
