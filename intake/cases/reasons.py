"""The router's reasons as a case keeps them: those the caller's phone gave are kept apart.

``case.routing["reasons"]`` holds what anyone handling the case may read: a reason derived
from the caller's number (area code, a mobile's region) stands there in a wording without it.
``case.routing["phone_reasons"]`` holds those reasons in full, each with its place in the list
(``{"at": 2, "text": "来电区号0577 → …"}``), for whoever may see the caller's identity
(``intake.authz.routing_reasons``). Case events get the public wording only. The
candidate townships likewise: ``candidates`` as they were before the phone narrowed them,
``phone_candidates`` after (``routing_candidates``).
"""

from routing.router.reasons import from_phone, public_wording


def kept_apart(reasons, candidates, public_candidates=None) -> dict:
    """The reasons and candidate townships as the routing record keeps them.

    {"reasons": the public wording of each, "phone_reasons": the phone-derived ones in full,
    "candidates": the townships before the phone narrowed them, "phone_candidates": after, if it did}.
    """
    record = {
        "reasons": [public_wording(r) for r in reasons],
        "phone_reasons": [{"at": i, "text": str(r)} for i, r in enumerate(reasons) if from_phone(r)],
        "candidates": list(candidates if public_candidates is None else public_candidates),
    }
    if public_candidates is not None:
        record["phone_candidates"] = list(candidates)
    return record


def public_reasons(routing: dict | None) -> list[str]:
    """The reasons without anything the caller's phone told (each wording once)."""
    return list(dict.fromkeys((routing or {}).get("reasons") or []))


def all_reasons(routing: dict | None) -> list[str]:
    """The reasons with the phone-derived ones in full, in the router's order."""
    reasons = list((routing or {}).get("reasons") or [])
    for item in (routing or {}).get("phone_reasons") or []:
        if 0 <= item["at"] < len(reasons):
            reasons[item["at"]] = item["text"]
    return reasons


def candidates(routing: dict | None, with_phone: bool) -> list[str]:
    """The router's candidate townships; narrowed by the caller's phone only ``with_phone``."""
    routing = routing or {}
    if with_phone and "phone_candidates" in routing:
        return list(routing["phone_candidates"])
    return list(routing.get("candidates") or [])
