"""The one table of allowed state changes, and the one function that makes them."""

from intake.cases.events import SYSTEM, actor_label, case_link, record  # noqa: F401  (SYSTEM, record: read from here too)
from intake.cases.lifecycle import on_transition
from intake.cases.models import OPEN_STATUSES, Case, CaseEvent
from intake.cases.models import CaseStatus as S
from intake.extensions import db
from intake.types import utcnow

OPEN = frozenset(OPEN_STATUSES)

# action: (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[S], S]] = {
    "route": (frozenset({S.RECEIVED}), S.DISPATCHED),
    "to_triage": (frozenset({S.RECEIVED}), S.TRIAGE),
    "dispatch": (frozenset({S.TRIAGE}), S.DISPATCHED),
    "reroute": (frozenset({S.TRIAGE}), S.RECEIVED),
    "sign": (frozenset({S.DISPATCHED}), S.SIGNED),
    "return": (frozenset({S.DISPATCHED, S.SIGNED}), S.TRIAGE),
    "accept": (frozenset({S.SIGNED}), S.SIGNED),
    "reply": (frozenset({S.SIGNED, S.REOPENED}), S.REPLIED),
    "close": (frozenset({S.REPLIED}), S.CLOSED),
    "reopen": (frozenset({S.REPLIED}), S.REOPENED),
    "answer": (frozenset({S.RECEIVED, S.TRIAGE, S.DISPATCHED, S.SIGNED}), S.CLOSED),
    "merge": (OPEN, S.CLOSED),
    "transfer_out": (OPEN, S.CLOSED),
}


class TransitionError(Exception):
    """The move is not in the table for the case's current status."""


def allowed_actions(case: Case) -> set[str]:
    return {a for a, (sources, _to) in TRANSITIONS.items() if case.status in sources}


def transition(
    case: Case, action: str, actor=None, reason: str = "", data: dict | None = None, public: bool = True
) -> CaseEvent:
    """Move a case by one allowed action and record who, when, from, to and why."""
    if action not in TRANSITIONS:
        raise TransitionError(f"unknown action {action!r}")
    sources, target = TRANSITIONS[action]
    if case.status not in sources:
        raise TransitionError(f"{action!r} is not allowed from {case.status.value!r}")
    event = CaseEvent(
        **case_link(case),
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label(actor),
        action=action,
        from_status=case.status.value,
        to_status=target.value,
        reason=reason,
        public=public,
        data=data,
    )
    case.status = target
    if target is S.CLOSED:
        case.closed_at = event.at
    db.session.add(event)
    on_transition(case, action, event.at)
    return event
