"""Events that record what happened to a case without changing its status."""

from intake.cases.models import Case, CaseEvent
from intake.extensions import db
from intake.types import utcnow

SYSTEM = "系统"


def record(
    case: Case, action: str, actor=None, reason: str = "", data: dict | None = None, public: bool = True
) -> CaseEvent:
    """Write an event that does not change the status (receipt, a note, a clock warning)."""
    event = CaseEvent(
        case=case,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label(actor),
        action=action,
        reason=reason,
        public=public,
        data=data,
    )
    db.session.add(event)
    return event


def actor_label(actor) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return actor.display_name
