"""POST a case, look up its public view: the same form rules as the web, JSON in and out.

The lookup code never goes in the URL (proxies and servers log URLs): it comes in the
`X-Lookup-Code` header of `GET /cases/<no>`, or in the JSON body of `POST /cases/<no>/lookup`.
"""

import pydantic
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from intake.cases.lookup import by_tracking_no, public_view
from intake.cases.models import Channel
from intake.cases.schemas import (
    CaseCreated,
    CaseIn,
    FieldErrors,
    InvalidCase,
    LookupIn,
    PublicView,
    submission_from_json,
)
from intake.cases.services import find_case, submit_case
from intake.extensions import limiter
from intake.inputs import BadJson, json_object
from intake.openapi import document, documented, fields_of
from intake.schemas import field_errors
from intake.throttles import by_address, setting
from intake.transaction import transactional

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CODE_HEADER = "X-Lookup-Code"
CODE_PARAMETERS = ("code", "lookup_code")  # refused in a URL


def _errors(errors: dict) -> tuple:
    return jsonify({"errors": errors}), 422


THROTTLED = ("请求过于频繁（Retry-After 秒后再试）", FieldErrors, ("Retry-After",))
CODE_IN_URL = ("查询码放在了网址中（code 或 lookup_code 参数）", FieldErrors)
NOT_FOUND = ("受理编号或查询码不正确", FieldErrors)


@bp.post("/cases")
@documented(
    "登记案件",
    description="与网页表单同一套规则：投诉须留姓名和电话，举报须留电话或选择匿名。",
    body=CaseIn,
    responses={
        201: ("已登记：受理编号和查询码（查询码只在此给出一次）", CaseCreated),
        422: ("字段错误（键为 JSON 字段名，如 complainant.phone）", FieldErrors),
        429: THROTTLED,
    },
    links={
        201: {
            "GetCase": {
                "operationId": "api.get_case",
                "parameters": {
                    "path.tracking_no": "$response.body#/tracking_no",
                    f"header.{CODE_HEADER}": "$response.body#/lookup_code",
                },
            },
            "LookUpCase": {
                "operationId": "api.look_up_case",
                "parameters": {"path.tracking_no": "$response.body#/tracking_no"},
                "requestBody": {"lookup_code": "$response.body#/lookup_code"},
            },
        }
    },
)
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
@documented(
    "查询办理进度",
    headers=((CODE_HEADER, "查询码", False),),
    responses={200: ("案件的公开信息", PublicView), 400: CODE_IN_URL, 404: NOT_FOUND, 429: THROTTLED},
)
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_IP"), "lookup-address", key_func=by_address)  # with /lookup
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_CASE"), "lookup-case", key_func=by_tracking_no)
@transactional  # a GET that writes on purpose: an old hash of the code is rewritten once it matches
def get_case(tracking_no: str):
    if _code_in_url():
        return _code_in_url_refused()
    return _look_up(tracking_no, request.headers.get(CODE_HEADER, ""))


@bp.post("/cases/<tracking_no>/lookup")
@documented(
    "查询办理进度（查询码在请求体中）",
    body=LookupIn,
    responses={
        200: ("案件的公开信息", PublicView),
        400: CODE_IN_URL,
        404: NOT_FOUND,
        422: ("请求体错误", FieldErrors),
        429: THROTTLED,
    },
)
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_IP"), "lookup-address", key_func=by_address)
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_CASE"), "lookup-case", key_func=by_tracking_no)
def look_up_case(tracking_no: str):
    if _code_in_url():
        return _code_in_url_refused()
    try:
        body = json_object()
    except BadJson as exc:
        return _errors(exc.errors())
    try:
        asked = LookupIn.model_validate(body)
    except pydantic.ValidationError as exc:
        return _errors(field_errors(exc))
    return _look_up(tracking_no, asked.lookup_code)


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


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of every JSON route (intake/openapi.py)."""
    return jsonify(document(current_app))


@bp.get("/docs")
def docs():
    """The document as a page of plain HTML: no script, no style of its own (the site's CSP)."""
    spec = document(current_app)
    components = spec["components"]["schemas"]
    operations = [
        {
            "method": method.upper(),
            "path": path,
            **op,
            "body_fields": fields_of(_schema_of(op["requestBody"]["content"]), components)
            if "requestBody" in op
            else [],
            "body_type": next(iter(op["requestBody"]["content"])) if "requestBody" in op else "",
            "answers": [
                {
                    "status": status,
                    "description": answer["description"],
                    "fields": fields_of(_schema_of(answer["content"]), components) if "content" in answer else [],
                }
                for status, answer in op["responses"].items()
            ],
        }
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)


def _schema_of(content: dict) -> dict:
    """The schema of a body, whatever its media type (JSON, or Open311's form-encoded POST)."""
    return next(iter(content.values()))["schema"]
