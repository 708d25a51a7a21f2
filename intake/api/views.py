"""POST a case, look up its public view: the same form rules as the web, JSON in and out.

The lookup code never goes in the URL (proxies and servers log URLs): it comes in the
`X-Lookup-Code` header of `GET /cases/<no>`, or in the JSON body of `POST /cases/<no>/lookup`.
"""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from intake.cases.lookup import by_tracking_no, public_view
from intake.cases.models import Channel
from intake.cases.schemas import InvalidCase, submission_from_json
from intake.cases.services import find_case, submit_case
from intake.extensions import limiter
from intake.inputs import BadJson, json_object
from intake.throttles import by_address, setting
from intake.transaction import transactional

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CODE_HEADER = "X-Lookup-Code"
CODE_PARAMETERS = ("code", "lookup_code")  # refused in a URL


def _errors(errors: dict) -> tuple:
    return jsonify({"errors": errors}), 422


@bp.post("/cases")
@limiter.limit(setting("RATELIMIT_API_FILING"), key_func=by_address)  # per API key too, once there are keys
def create_case():
    try:
        body = json_object()
    except BadJson as exc:
        return _errors(exc.errors())
    try:
        submission = submission_from_json(body, Channel.API)
    except InvalidCase as exc:
        return _errors(exc.errors)
    case, code = submit_case(submission, receipt="web_receipt")
    return jsonify({"tracking_no": case.tracking_no, "lookup_code": code, "status": case.status.value}), 201


@bp.get("/cases/<tracking_no>")
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_IP"), "lookup-address", key_func=by_address)  # with /lookup
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_CASE"), "lookup-case", key_func=by_tracking_no)
@transactional  # a GET that writes on purpose: an old hash of the code is rewritten once it matches
def get_case(tracking_no: str):
    if _code_in_url():
        return _code_in_url_refused()
    return _look_up(tracking_no, request.headers.get(CODE_HEADER, ""))


@bp.post("/cases/<tracking_no>/lookup")
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_IP"), "lookup-address", key_func=by_address)
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_CASE"), "lookup-case", key_func=by_tracking_no)
def look_up_case(tracking_no: str):
    if _code_in_url():
        return _code_in_url_refused()
    try:
        body = json_object()
    except BadJson as exc:
        return _errors(exc.errors())
    code = body.get("lookup_code", "")
    if not isinstance(code, str):
        return _errors({"lookup_code": [_("必须是文字。")]})
    return _look_up(tracking_no, code)


def _look_up(tracking_no: str, code: str):
    case = find_case(tracking_no, code)
    if case is None:
        return jsonify({"errors": {"case": [_("受理编号或查询码不正确。")]}}), 404
    return jsonify(public_view(case))


def _code_in_url() -> bool:
    return any(name in request.args for name in CODE_PARAMETERS)


def _code_in_url_refused():
    message = _(
        "查询码不能放在网址中（网址会被记入日志）：请放在请求头 %(header)s 中，"
        '或以 JSON {"lookup_code": …} POST 到 /api/v1/cases/<受理编号>/lookup。',
        header=CODE_HEADER,
    )
    return jsonify({"errors": {"code": [message]}}), 400
