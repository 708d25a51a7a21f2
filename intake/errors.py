"""Error pages in the user's language (JSON under /api/ and /places/)."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _messages():
    return {
        400: _("请求有误。"),
        403: _("您没有权限查看这个页面。"),
        404: _("没有找到这个页面或案件。"),
        405: _("不支持这种请求方式。"),
        413: _("提交的内容太长。"),
        500: _("系统出了点问题，请稍后再试。您已提交的内容不会丢失。"),
    }


def handle_http(exc: HTTPException):
    message = _messages().get(exc.code, exc.name)
    if isinstance(exc, CSRFError):
        message = _("页面已过期，请返回并刷新页面后重新提交。")
    if request.path.startswith(("/api/", "/places/")):  # JSON for the JSON endpoints
        return jsonify({"errors": {"request": [message]}}), exc.code
    return render_template("error.html", message=message, code=exc.code), exc.code


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http)
