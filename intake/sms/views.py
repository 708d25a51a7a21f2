"""The SMS gateway's webhook: check size and signature on the raw body, then one service call."""

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from intake.extensions import csrf
from intake.sms.services import PART, BadInbound, parse_inbound, receive, receive_part, signature_ok
from intake.transaction import transactional

bp = Blueprint("sms", __name__, url_prefix="/sms")


def _refuse(field: str, message: str, code: int):
    return jsonify({"errors": {field: [message]}}), code


@bp.post("/inbound")
@csrf.exempt  # the gateway signs the body instead
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
    except BadInbound as exc:
        return _refuse(exc.field, exc.message, 400)
    status = transactional(receive)(message)
    if status == PART:  # committed on its own first, so the last part to commit sees every part
        status = receive_part(message.message_id)
    return jsonify({"status": status})
