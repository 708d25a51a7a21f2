"""The SMS gateway's webhook: check size and signature on the raw body, then one service call.

Throttles, and why they answer differently:
- per sender (RATELIMIT_SMS_SENDER), counted only for signed messages (a forged body cannot use up
  a citizen's allowance): a sender over it gets 200 {"status": "throttled"}, and the message is
  dropped (logged, not stored, nothing sent back). A 4xx or 5xx would make the gateway redeliver the
  flood again and again; 200 tells it the message was handled, which it was: by dropping it.
- per address (RATELIMIT_SMS_IP, generous: it is the gateway's own address): 429 with Retry-After,
  which gateways answer by backing off and redelivering later, so no citizen's message is lost when
  the gateway itself bursts.
"""

import logging

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from intake.cases.schemas import FieldErrors
from intake.extensions import csrf, limiter
from intake.openapi import documented
from intake.sms.schemas import InboundSmsIn, SmsHandled
from intake.sms.services import (
    PART,
    UNREADABLE,
    BadInbound,
    parse_inbound,
    receive,
    receive_part,
    sender_e164,
    signature_ok,
    store_unreadable,
)
from intake.throttles import by_address, over_limit, setting
from intake.transaction import transactional

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)


def _refuse(field: str, message: str, code: int):
    return jsonify({"errors": {field: [message]}}), code


@bp.post("/inbound")
@documented(
    "短信网关推送上行短信",
    description="请求体须由网关签名（X-Signature）。已签名但无法读取的请求体也答 200（status 为 unreadable），以免网关反复重发。",
    body=InboundSmsIn,
    security="smsSignature",
    tag="webhooks",
    responses={
        200: ("已处理（含 throttled：该号码发送过于频繁，本条未处理）", SmsHandled),
        401: ("签名不正确", FieldErrors),
        413: ("请求内容太长", FieldErrors),
        429: ("网关地址请求过于频繁，请稍后重发", FieldErrors, ("Retry-After",)),
    },
)
@csrf.exempt  # the gateway signs the body instead
@limiter.limit(setting("RATELIMIT_SMS_IP"), key_func=by_address)
def inbound():
    request.max_content_length = current_app.config["SMS_MAX_BODY"]
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _refuse("body", _("请求内容太长。"), 413)
    if not signature_ok(body, request.headers.get("X-Signature")):
        return _refuse("signature", _("签名不正确。"), 401)
    try:
        message = parse_inbound(body)
    except BadInbound as exc:  # signed but unreadable: kept for staff, and 200 so it is not redelivered forever
        log.warning("signed SMS body unreadable (%s: %s); stored as unreadable", exc.field, exc.message)
        transactional(store_unreadable)(body, exc)
        return jsonify({"status": UNREADABLE, "errors": {exc.field: [exc.message]}})
    sender = sender_e164(message.sender) or message.sender
    wait = over_limit("RATELIMIT_SMS_SENDER", sender)
    if wait is not None:
        log.warning("SMS %s from %s dropped: the sender is over RATELIMIT_SMS_SENDER", message.message_id, sender)
        return (
            jsonify({"status": "throttled", "message": _("该号码发送过于频繁，本条短信未处理。")}),
            200,
            {"Retry-After": str(wait)},
        )
    status = transactional(receive)(message)
    if status == PART:  # committed on its own first, so the last part to commit sees every part
        status = receive_part(message.message_id)
    return jsonify({"status": status})
