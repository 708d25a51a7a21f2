"""What a citizen with the number and code may see of a case (no staff names, no other people)."""

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from intake.cases.labels import (
    ACTION_LABELS,
    CLOCK_LABELS,
    MERGED_LABEL,
    PUBLIC_ACTION_LABELS,
    PUBLIC_STATUS_LABELS,
    TRANSFERRED_LABEL,
)
from intake.cases.models import Case
from intake.forms import IntakeForm
from routing.calendar import TZ

PUBLIC_CLOCKS = ("sign", "decision", "resolve", "rework")


class LookupForm(IntakeForm):
    tracking_no = StringField(_l("受理编号"), [InputRequired(_l("请输入受理编号。")), Length(max=32)])
    lookup_code = StringField(_l("查询码"), [InputRequired(_l("请输入查询码。")), Length(max=16)])


def by_tracking_no() -> str:
    """The throttle key of a lookup: the number asked for (web form or API path), as find_case reads it."""
    from intake.cases.services import typed_digits

    raw = (request.view_args or {}).get("tracking_no") or request.form.get("tracking_no")
    return "case:" + typed_digits(raw)[:32]


def public_status(case: Case) -> str:
    """The state a citizen reads: plain words; a merged case says where it went."""
    if case.merged_into is not None:
        return str(MERGED_LABEL % {"no": case.merged_into.tracking_no})
    if case.events and case.events[-1].action == "transfer_out":
        return str(TRANSFERRED_LABEL)
    return str(PUBLIC_STATUS_LABELS[case.status])


def public_view(case: Case) -> dict:
    """The public view of a case, shared by the lookup page and the API.

    A case merged into another follows it: `merged_into` is the master's number and its public
    state, and the master's result is this case's result.
    """
    master = case.merged_into
    return {
        "tracking_no": case.tracking_no,
        "status": case.status.value,
        "status_label": public_status(case),
        "merged_into": (
            {
                "tracking_no": master.tracking_no,
                "status": master.status.value,
                "status_label": public_status(master),
            }
            if master is not None
            else None
        ),
        "kind": case.kind.value,
        "received_at": _iso(case.received_at),
        "industry": {"code": case.industry.code, "name": case.industry.name} if case.industry else None,
        "township": {"code": case.township.code, "name": case.township.name} if case.township else None,
        "lead_department": (
            {"kind": case.lead_department.kind, "name": case.lead_department.name} if case.lead_department else None
        ),
        "deadlines": [
            {
                "clock": c.name,
                "label": str(CLOCK_LABELS[c.name]),
                "due_at": _iso(c.due_at),
                "running": c.stopped_at is None,
                "met": c.met,
            }
            for c in case.clocks
            if c.name in PUBLIC_CLOCKS
        ],
        "result": _result(master or case),
        "history": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "label": str(PUBLIC_ACTION_LABELS.get(e.action) or ACTION_LABELS.get(e.action, e.action)),
                "note": e.reason if e.public else "",
            }
            for e in case.events
            if e.public or e.to_status
        ],
    }


def _result(case: Case) -> str | None:
    return case.reply_text if case.status.value in ("replied", "closed") and case.reply_text else None


def _iso(dt) -> str:
    return dt.astimezone(TZ).isoformat()
