"""Error pages in the user's language (JSON for the API, the places search and the machines' hooks)."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from intake.throttles import retry_after


def _messages():
    return {
        400: _("请求有误。"),
        403: _("您没有权限查看这个页面。"),
        404: _("没有找到这个页面或案件。"),
        405: _("不支持这种请求方式。"),
        413: _("提交的内容太长。"),
        500: _("系统出了点问题，请稍后再试。您已提交的内容不会丢失。"),
    }


JSON_PREFIXES = ("/api/", "/places/", "/sms/")  # the endpoints machines and scripts call
JSON_PATHS = {"/hotline/calls"}  # the phone system's hook (the console's /hotline/calls/<id>/… are pages)


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path in JSON_PATHS


def handle_http(exc: HTTPException):
    message = _messages().get(exc.code, exc.name)
    if isinstance(exc, CSRFError):
        message = _("页面已过期，请返回并刷新页面后重新提交。")
    if exc.code == 429:
        return too_many_requests()
    if wants_json():  # JSON for the JSON endpoints
        return jsonify({"errors": {"request": [message]}}), exc.code
    return render_template("error.html", message=message, code=exc.code), exc.code


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
