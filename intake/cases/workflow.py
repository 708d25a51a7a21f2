"""The one table of allowed state changes, and the one function that makes them."""
from flask_babel import lazy_gettext as _l

from intake.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus as S
from intake.extensions import db
from intake.types import utcnow
from intake.cases.events import SYSTEM, actor_label, record  # noqa: F401  (SYSTEM, record: read from here too)
from intake.cases.lifecycle import on_transition

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

ACTION_LABELS = {
    "receive": _l("受理登记"),
    "route": _l("自动派单"),
    "to_triage": _l("转人工分拨"),
    "dispatch": _l("人工派单"),
    "reroute": _l("补充信息后重新自动分派"),
    "details_added": _l("短信补充情况"),
    "sign": _l("签收"),
    "return": _l("退单"),
    "accept": _l("决定受理"),
    "reply": _l("办结答复"),
    "close": _l("结案"),
    "reopen": _l("发回重办"),
    "answer": _l("当场答复"),
    "merge": _l("重复件合并"),
    "transfer_out": _l("转出（非本渠道受理范围）"),
    "flag_duplicate": _l("疑似重复件"),
    "merged_from": _l("并入重复件"),
    "warn_amber": _l("时限预警"),
    "escalate": _l("超期督办"),
    "problem_case": _l("列为问题件"),
    "extension_requested": _l("申请延期"),
    "extension_approved": _l("批准延期"),
    "extension_refused": _l("不予延期"),
}

STATUS_LABELS = {
    S.RECEIVED: _l("已受理，待分派"),
    S.TRIAGE: _l("人工分拨中"),
    S.DISPATCHED: _l("已派单，待签收"),
    S.SIGNED: _l("办理中"),
    S.REPLIED: _l("已办结答复"),
    S.REOPENED: _l("重新办理中"),
    S.CLOSED: _l("已结案"),
}

CLOCK_LABELS = {
    "triage": _l("人工分拨期限"),
    "sign": _l("签收期限"),
    "return": _l("退单期限"),
    "decision": _l("受理/立案决定期限"),
    "resolve": _l("办结期限"),
    "callback": _l("回访期限"),
    "rework": _l("重办期限"),
    "extension": _l("可延长期限（一次）"),
    "tell_tipper": _l("告知实名举报人期限"),
}



class TransitionError(Exception):
    """The move is not in the table for the case's current status."""


def allowed_actions(case: Case) -> set[str]:
    return {a for a, (sources, _to) in TRANSITIONS.items() if case.status in sources}


def transition(case: Case, action: str, actor=None, reason: str = "", data: dict | None = None,
               public: bool = True) -> CaseEvent:
    """Move a case by one allowed action and record who, when, from, to and why."""
    if action not in TRANSITIONS:
        raise TransitionError(f"unknown action {action!r}")
    sources, target = TRANSITIONS[action]
    if case.status not in sources:
        raise TransitionError(f"{action!r} is not allowed from {case.status.value!r}")
    event = CaseEvent(
        case=case,
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
