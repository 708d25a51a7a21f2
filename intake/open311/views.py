"""Open311 GeoReport v2 under /open311/v2/: every endpoint as .json or .xml, errors as the spec's array.

Who may read which request, and why: intake/open311/services.py. POST requests is form-encoded
with an `api_key` (issued on /admin/open311-keys); each key has its own rate limit.
"""

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from intake.extensions import limiter
from intake.open311 import schemas as o
from intake.open311 import services
from intake.open311.formats import render
from intake.open311.forms import filters_from_args, submission_from_params
from intake.open311.services import Open311Error
from intake.openapi import documented
from intake.throttles import by_address, retry_after, setting
from intake.types import utcnow
from routing.calendar import TZ

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
KEY_SLOT = "intake.open311.key"
JSON = {"fmt": "json"}  # the document gives the .json form of each endpoint; .xml answers the same
BAD = ("参数错误（GeoReport v2 的错误数组）", o.Open311Errors)
NO_KEY = ("缺少 api_key，或 api_key 无效、已吊销", o.Open311Errors)
MISSING = ("没有这个服务代码或请求", o.Open311Errors)
TOO_MANY = ("操作太频繁", o.Open311Errors, ("Retry-After",))
# gunicorn's own answer (not ours) to a request line over its limit (4094 bytes): query parameters
# have no length limit of their own in the spec, so a client can reach it
TOO_LONG = ("请求行太长（服务器的上限）", None)
CHANGESET = "2026-12-02T00:00:00+08:00"  # when the services' shape last changed (not their list)


def _documented(summary: str, responses: dict, **details):
    """@documented for an Open311 endpoint: its .json form, in the open311 group, with the answers
    every one of them can give (a bad parameter, gunicorn's 414) besides its own."""
    return documented(
        summary, tag="open311", path_values=JSON, responses={**responses, 400: BAD, 414: TOO_LONG}, **details
    )


def _key():
    """The key the request names (active or not), looked up once per request (in its environ, not
    in `g`: a test's app context outlives its requests)."""
    if KEY_SLOT not in request.environ:
        request.environ[KEY_SLOT] = services.key_for(request.values.get("api_key"))
    return request.environ[KEY_SLOT]


# Flask-Limiter may resolve the limit and its key before it asks exempt_when: both must work with
# no key (an error in them sends the limiter to its in-memory fallback, intake/throttles.py)


def _by_key() -> str:
    key = _key()
    return f"open311-key:{key.id if key else '-'}"


def _key_limit() -> str:
    key = _key()
    return key.rate_limit if key else current_app.config["OPEN311_KEY_RATE_LIMIT"]


def _no_key() -> bool:
    key = _key()
    return key is None or not key.active  # refused with 403 by the view, before it costs anything


per_key = limiter.shared_limit(_key_limit, "open311-key", key_func=_by_key, exempt_when=_no_key)


@bp.before_request
def _check_jurisdiction():
    wanted = current_app.config.get("OPEN311_JURISDICTION_ID")
    given = request.values.get("jurisdiction_id")
    if wanted and given and given != wanted:
        raise Open311Error(400, _("jurisdiction_id 不是本系统的：应为 %(id)s。", id=wanted))


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return render(exc.body(), _fmt(), "errors", exc.http_status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    headers = {"Retry-After": str(retry_after())} if exc.code == 429 else None
    description = _("操作太频繁，请稍后再试。") if exc.code == 429 else exc.name
    return render([{"code": exc.code, "description": description}], _fmt(), "errors", exc.code, headers)


def _fmt() -> str:
    return (request.view_args or {}).get("fmt") or ("xml" if request.path.endswith(".xml") else "json")


@bp.get(f"/discovery.{FMT}")
@_documented(
    "Open311 发现文档",
    query=o.Jurisdiction,
    responses={200: ("接口地址与格式", o.Discovery)},
)
def discovery(fmt: str):
    endpoint = {
        "specification": SPECIFICATION,
        "url": url_for("open311.service_list", fmt=fmt, _external=True).rsplit("/", 1)[0],
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    body = {
        "changeset": CHANGESET,
        "contact": current_app.config.get("OPEN311_CONTACT") or None,
        "key_service": _("API key 由系统管理员在“系统管理 · Open311 接入”页面签发。"),
        "endpoints": [endpoint],
    }
    return render(body, fmt, "discovery")


@bp.get(f"/services.{FMT}")
@_documented(
    "Open311 服务列表（行业 × 类型）",
    query=o.Jurisdiction,
    responses={200: ("服务", o.Services)},
)
def service_list(fmt: str):
    return render(services.service_list(), fmt, "services")


@bp.get(f"/services/<service_code>.{FMT}")
@_documented(
    "Open311 服务定义（附加字段）",
    query=o.Jurisdiction,
    responses={200: ("服务定义", o.ServiceDefinition), 404: MISSING},
)
def service_definition(service_code: str, fmt: str):
    definition = services.service_definition(service_code)
    if definition is None:
        raise Open311Error(404, _("没有这个服务代码：%(code)s", code=service_code))
    return render(definition, fmt, "service_definition")


@bp.post(f"/requests.{FMT}")
@_documented(
    "Open311 提交请求（登记案件）",
    form=o.RequestForm,
    security="open311Key",
    responses={201: ("已登记：受理编号与 token", o.RequestsCreated), 403: NO_KEY, 404: MISSING, 429: TOO_MANY},
)
@limiter.limit(setting("RATELIMIT_OPEN311_IP"), key_func=by_address)
@per_key
def create_request(fmt: str):
    key = services.active_key(request.form.get("api_key") or request.args.get("api_key"))
    code, submission, lat, long = submission_from_params(request.form)
    case, link = services.file_request(submission, code, key, lat=lat, long=long)
    body = [{"service_request_id": case.tracking_no, "token": link.token, "service_notice": _("已收到，正在分拨。")}]
    return render(body, fmt, "service_requests", 201)


@bp.get(f"/requests.{FMT}")
@_documented(
    "Open311 请求列表（本 api_key 提交的）",
    query=o.RequestFilters,
    security="open311Key",
    responses={200: ("请求的公开信息", o.ServiceRequests), 403: NO_KEY, 429: TOO_MANY},
)
@limiter.limit(setting("RATELIMIT_OPEN311_IP"), key_func=by_address)  # guessing keys costs too
@per_key
def request_list(fmt: str):
    key = services.active_key(request.args.get("api_key"))
    config = current_app.config
    filters = filters_from_args(
        request.args, config["OPEN311_MAX_DAYS"], config["OPEN311_MAX_ROWS"], utcnow().astimezone(TZ)
    )
    return render(services.request_views(services.find_requests(key, **filters)), fmt, "service_requests")


@bp.get(f"/requests/<service_request_id>.{FMT}")
@_documented(
    "Open311 单个请求",
    query=o.Jurisdiction,
    security="open311Key",
    responses={200: ("请求的公开信息", o.ServiceRequests), 403: NO_KEY, 404: MISSING, 429: TOO_MANY},
)
@limiter.limit(setting("RATELIMIT_OPEN311_IP"), key_func=by_address)
@per_key
def request_detail(service_request_id: str, fmt: str):
    key = services.active_key(request.args.get("api_key"))
    links = services.find_requests(key, ids=[service_request_id], limit=1)
    if not links:
        raise Open311Error(404, _("没有这个请求（或它不是用这个 api_key 提交的）：%(id)s", id=service_request_id))
    return render(services.request_views(links), fmt, "service_requests")


@bp.get(f"/tokens/<token>.{FMT}")
@_documented(
    "Open311 由 token 查受理编号",
    query=o.Jurisdiction,
    responses={200: ("受理编号", o.TokenAnswers), 404: MISSING},
)
def token(token: str, fmt: str):
    link = services.token_request(token)
    if link is None:
        raise Open311Error(404, _("没有这个 token。"))
    return render([{"service_request_id": link.case.tracking_no, "token": link.token}], fmt, "service_requests")
