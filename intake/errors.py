"""Error pages in the user's language (JSON for the API, the places search and the machines' hooks).

Honest about what was kept. A mutating request commits only when its answer is below 400
(intake/transaction.py), so any error page here means that nothing the request sent was stored:
the pages say so, and tell the user to send it again. The one exception is the SMS webhook, which
commits a part of a long message before joining it; a redelivery finds that part and carries on.
When the database cannot be reached (or times out, or its pool is exhausted) the answer is a 503
with Retry-After, which the SMS gateway and the phone system answer by trying again later.
"""

import logging

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from intake.extensions import db
from intake.throttles import retry_after


def _messages():
    return {
        400: _("请求有误。"),
        403: _("您没有权限查看这个页面。"),
        404: _("没有找到这个页面或案件。"),
        405: _("不支持这种请求方式。"),
        413: _("提交的内容太长。"),
        500: _("系统出了点问题，请稍后再试。"),
    }


log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER = 30  # seconds: a restart or a failover is over by then, or the next try says so
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def _not_stored() -> str:
    """What a failed request means for what it sent (nothing of it was kept: see the module's doc)."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        return _("您刚才提交的内容没有保存，请稍后重新提交。")
    return ""


JSON_PREFIXES = ("/api/", "/open311/", "/places/", "/sms/")  # the endpoints machines and scripts call
JSON_PATHS = {"/hotline/calls"}  # the phone system's hook (the console's /hotline/calls/<id>/… are pages)


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path in JSON_PATHS


def handle_http(exc: HTTPException):
    message = _messages().get(exc.code, exc.name)
    if isinstance(exc, CSRFError):
        message = _("页面已过期，请返回并刷新页面后重新提交。")
    if exc.code == 429:
        return too_many_requests()
    # the exception's own headers, such as a 405's Allow (RFC 9110), with our body instead of its
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    if wants_json():  # JSON for the JSON endpoints
        return jsonify({"errors": {"request": [message]}}), exc.code, headers
    return render_template("error.html", message=message, code=exc.code, not_stored=_not_stored()), exc.code, headers


def database_unavailable(exc: Exception):
    """The database is down or unreachable: 503, Retry-After, and that nothing was stored."""
    log.error("database unavailable for %s %s: %s", request.method, request.path, exc.__class__.__name__)
    _forget_session()
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    if wants_json():
        message = _("数据库暂时无法使用，本次请求没有保存，请稍后重试。")
        return jsonify({"errors": {"request": [message]}}), 503, headers
    message = _("系统暂时无法使用，请稍后再试。")
    page = render_template(
        "unavailable.html", message=message, not_stored=_not_stored(), retry_after=DATABASE_RETRY_AFTER
    )
    return make_response(page, 503, headers)


def data_refused(exc: Exception):
    """A value the database refused (too long, out of range, a character it cannot store) that no
    check caught first: a 400 naming the request, not a 500. The checks (intake/inputs.py, the forms'
    validators) should have named the field; this is the net under them."""
    log.error("the database refused a value for %s %s: %s", request.method, request.path, exc, exc_info=exc)
    _forget_session()
    message = _("提交的内容中有无法保存的值，请检查后重新提交。")
    if wants_json():
        return jsonify({"errors": {"request": [message]}}), 400
    return render_template("error.html", message=message, code=400, not_stored=_not_stored()), 400


def server_error(exc: Exception):
    """Anything else unexpected: 500 (logged by Flask); nothing the request sent was stored.

    A database error raised by the commit hook (after the view) reaches Flask's handle_exception,
    which asks for the 500 handler only: a database outage there is a 503 all the same.
    """
    original = getattr(exc, "original_exception", None)
    if isinstance(original, DATABASE_DOWN):
        return database_unavailable(original)
    if isinstance(original, DataError):
        return data_refused(original)
    _forget_session()
    message = _messages()[500]
    if wants_json():
        return jsonify({"errors": {"request": [" ".join(filter(None, [message, _not_stored()]))]}}), 500
    return render_template("error.html", message=message, code=500, not_stored=_not_stored()), 500


def _forget_session() -> None:
    """Drop the failed transaction (and a dead connection) before the error page renders."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing to roll back on it
        log.debug("rollback after a database error failed", exc_info=True)


def too_many_requests():
    """A throttled request (intake/throttles.py): 429, Retry-After, and when to try again in Chinese."""
    wait = retry_after()
    message = _("操作太频繁，请 %(wait)s后再试。", wait=wait_words(wait))
    headers = {"Retry-After": str(wait)}
    if wants_json():
        return jsonify({"errors": {"request": [message]}}), 429, headers
    return render_template("throttled.html", message=message, wait=wait), 429, headers


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)d 秒", n=seconds)
    return _("%(n)d 分钟", n=-(-seconds // 60))


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
    for error in DATABASE_DOWN:
        app.register_error_handler(error, database_unavailable)
    app.register_error_handler(DataError, data_refused)
    app.register_error_handler(500, server_error)
