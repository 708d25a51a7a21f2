"""The router's reasons as a case keeps them: those the caller's phone gave are kept apart.

``case.routing["reasons"]`` holds what anyone handling the case may read: a reason derived
from the caller's number (area code, a mobile's region) stands there in a wording without it.
``case.routing["phone_reasons"]`` holds those reasons in full, each with its place in the list
(``{"at": 2, "text": "来电区号0577 → …"}``), for whoever may see the caller's identity
(``intake.cases.access.routing_reasons``). Case events get the public wording only.
"""

from routing.router.reasons import from_phone, public_wording


def kept_apart(reasons) -> dict:
    """{"reasons": the public wording of each, "phone_reasons": the phone-derived ones in full}."""
    return {
        "reasons": [public_wording(r) for r in reasons],
        "phone_reasons": [{"at": i, "text": str(r)} for i, r in enumerate(reasons) if from_phone(r)],
    }


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
