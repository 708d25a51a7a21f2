"""The phone system's call announcements and the operator console.

How the console hears of a call: plain polling of /hotline/feed every 1.5 s with
ETag / If-None-Match, not Server-Sent Events or a long poll. Production runs gunicorn
sync workers (README: `gunicorn -w 4`) and `flask demo` runs waitress with 8 threads;
both give one worker or thread to a request for as long as it is open, so every
console holding an SSE stream or a 20 s long poll would pin one of them, and four
operators would leave no worker for the citizens' form. A poll costs one short indexed
query and, when nothing changed, an empty 304: a call shows within two seconds on any server,
through any proxy, with nothing to reconnect.
"""

import hmac

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.authz import role_may, target_or_404
from intake.cases.models import Channel
from intake.cases.schemas import FieldErrors
from intake.cases.services import Submission
from intake.extensions import csrf, db, limiter
from intake.hotline import services
from intake.hotline.forms import (
    CallAnnounced,
    CallAnnouncement,
    HotlineCaseForm,
    InvalidAnnouncement,
    announcement_from_json,
)
from intake.hotline.models import CALL_STATES, Call
from intake.inputs import BadJson, json_object
from intake.openapi import documented
from intake.staff.services import ActionError
from intake.throttles import by_address, setting
from intake.transaction import transactional

bp = Blueprint("hotline", __name__, url_prefix="/hotline")
RECEIPT = "hotline_receipt"
POLL_MS = 1500


@bp.post("/calls")
@documented(
    "话务系统通知来电",
    description="同一 call_id 只登记一个来电：第一次 201，之后 200。",
    body=CallAnnouncement,
    security="hotlineToken",
    tag="webhooks",
    responses={
        200: ("这个来电已登记过", CallAnnounced),
        201: ("已登记来电", CallAnnounced),
        400: ("字段错误", FieldErrors),
        401: ("缺少或错误的话务系统令牌", FieldErrors, ("WWW-Authenticate",)),
        429: ("请求过于频繁", FieldErrors, ("Retry-After",)),
    },
)
@csrf.exempt
@limiter.limit(setting("RATELIMIT_HOTLINE_IP"), key_func=by_address)
def announce():
    """The phone system announces a call (bearer token); the same call_id twice stores one call."""
    if not _token_ok(request.headers.get("Authorization", "")):
        return (
            jsonify({"errors": {"authorization": [_("缺少或错误的话务系统令牌。")]}}),
            401,
            {"WWW-Authenticate": 'Bearer realm="hotline"'},
        )
    try:
        body = json_object()
    except BadJson as exc:
        return _bad(exc.errors())
    try:
        announced = announcement_from_json(body)
    except InvalidAnnouncement as exc:
        return _bad(exc.errors)
    call, created = services.announce_call(
        announced.call_id.strip(),
        announced.caller_e164(current_app.config["DEFAULT_REGION"]),
        (announced.line or "").strip(),
        announced.started_at,
    )
    return jsonify(
        {"id": call.id, "call_id": call.call_id, "caller": call.caller, "status": call.status.value}
    ), 201 if created else 200


def _token_ok(header: str) -> bool:
    expected = current_app.config.get("HOTLINE_TOKEN") or ""
    scheme, _sep, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _bad(errors: dict):
    return jsonify({"errors": errors}), 400


@bp.get("/")
@transactional  # a GET that writes on purpose: the look at the caller's earlier cases is logged
def console():
    current = services.current_call(current_user)
    form = HotlineCaseForm(complainant_phone=services.display_number(current.caller)) if current else None
    return _console(form, current)


def _console(form, current: Call | None, error: str = "", status: int = 200):
    receipt = session.get(RECEIPT)
    return render_template(
        "hotline/console.html",
        form=form or HotlineCaseForm(),
        current=current,
        error=error,
        current_view=services.call_view(current, current_user, with_history=True) if current else None,
        receipt=receipt,
        readable=services.readable,
        may_take=role_may(current_user, "hotline.take"),
        poll_ms=POLL_MS,
    ), status


@bp.get("/feed")
@transactional  # a GET that writes on purpose: the look at the caller's earlier cases is logged
def feed():
    """Ringing calls and this operator's current call; 304 when nothing changed since the ETag."""
    response = jsonify(services.feed(current_user))
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.post("/calls/<int:call_id>/take")
def take(call_id: int):
    call = db.session.get(Call, call_id) or abort(404)
    try:
        services.take_call(call, current_user)
    except ActionError as exc:
        return jsonify({"errors": {"call": [str(exc)]}}), 409
    session.pop(RECEIPT, None)
    return jsonify({"current": services.call_view(call, current_user, with_history=True)})


def _own_call(call_id: int) -> Call:
    return target_or_404("hotline.handle", db.session.get(Call, call_id))


@bp.post("/calls/<int:call_id>/file")
def file(call_id: int):
    """Submit the case told on the call, or close an inquiry answered on the spot."""
    call = _own_call(call_id)
    if not CALL_STATES.allows(call, "file"):
        flash(_("这个来电已经处理完毕。"), "error")
        return redirect(url_for("hotline.console"))
    form = HotlineCaseForm()
    if not form.validate_on_submit():
        return _console(form, call)
    submission = Submission.from_form(form, Channel.HOTLINE)
    places = (form.township_division, form.village_division)
    answering = request.form.get("action") == "answer"
    try:
        if answering:
            case, code = services.answer_on_the_spot(call, current_user, submission, form.answer.data or "", *places)
        else:
            case, code = services.file_from_call(call, current_user, submission, *places)
    except ActionError as exc:
        db.session.refresh(call)
        return _console(form, call if CALL_STATES.allows(call, "file") else None, error=str(exc))
    session[RECEIPT] = {
        "tracking_no": case.tracking_no,
        "lookup_code": code,
        "answered": answering,
        **services.receipt_sms(case),
    }
    return redirect(url_for("hotline.console"))


@bp.post("/calls/<int:call_id>/end")
def end(call_id: int):
    """The call is over with nothing to file (the caller hung up, a wrong number)."""
    call = _own_call(call_id)
    try:
        services.end_call(call, current_user)
    except ActionError as exc:
        flash(str(exc), "error")
    else:
        flash(_("已结束来电，未登记案件。"), "success")
    return redirect(url_for("hotline.console"))
