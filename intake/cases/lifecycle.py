"""What each move of a case does to its clocks, and when a case becomes a problem case.

The workflow's one table of moves (intake.cases.workflow.TRANSITIONS) says where a case may go;
the table here says which time limits each move stops and starts (RULES.md, "Clocks every
dispatched case runs"). `transition()` applies it, so no service starts or stops a clock by hand.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from intake.cases.clocks import start_clock, stop_clocks
from intake.cases.events import record
from intake.cases.kinds import kind_of
from intake.cases.models import Case

EVERY = ("*",)


@dataclass(frozen=True)
class ClockRule:
    stop: tuple[str, ...] = ()
    start: tuple[str, ...] = ()
    # started once in a case's life, counted from its receipt ("decision … at receipt"), for
    # the kinds whose `receipt_clocks` (intake.cases.kinds) name them
    from_receipt: tuple[str, ...] = ()


_GIVE_TO_DEPARTMENT = ClockRule(stop=("triage",), start=("sign", "return"), from_receipt=("decision", "resolve"))

CLOCK_RULES: dict[str, ClockRule] = {
    "to_triage": ClockRule(start=("triage",)),
    "route": _GIVE_TO_DEPARTMENT,
    "dispatch": _GIVE_TO_DEPARTMENT,
    "reroute": ClockRule(stop=("triage",)),
    "sign": ClockRule(stop=("sign",)),
    "return": ClockRule(stop=("sign", "return"), start=("triage",)),
    "accept": ClockRule(stop=("decision",), start=("resolve",)),
    "reply": ClockRule(stop=("decision", "resolve", "rework"), start=("callback",)),
    "reopen": ClockRule(stop=("callback",), start=("rework",)),
    "close": ClockRule(stop=EVERY),
    "answer": ClockRule(stop=EVERY),
    "merge": ClockRule(stop=EVERY),
    "transfer_out": ClockRule(stop=EVERY),
}

# Moves that send a case back; the N-th makes it a problem case (RULES.md: three times).
BOUNCES = ("return", "reopen")


def on_transition(case: Case, action: str, at: datetime) -> None:
    """Stop and start the clocks this move calls for; flag a case that keeps coming back."""
    rule = CLOCK_RULES.get(action)
    if rule is not None:
        stop_clocks(case, *(() if rule.stop == EVERY else rule.stop), at=at)
        for name in rule.start:
            start_clock(case, name, at)
        for name in rule.from_receipt:
            if _first_from_receipt(case, name):
                start_clock(case, name, case.received_at)
    if action in BOUNCES:
        _check_problem(case, at)


def _first_from_receipt(case: Case, name: str) -> bool:
    # a complaint's resolve clock starts at acceptance; a tip's decision resolves it
    if name not in kind_of(case.kind).receipt_clocks:
        return False
    return not any(c.name == name for c in case.clocks)  # a case dispatched again keeps its first deadline


def _check_problem(case: Case, at: datetime) -> None:
    limit = current_app.config["PROBLEM_CASE_BOUNCES"]
    bounces = sum(1 for e in case.events if e.action in BOUNCES)
    if case.problem_at is None and bounces >= limit:
        case.problem_at = at
        case.escalated_at = case.escalated_at or at
        record(
            case,
            "problem_case",
            reason=f"已退单或发回重办{bounces}次，列为问题件督办",
            public=False,
            data={"bounces": bounces},
        )
