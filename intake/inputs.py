"""What the database and the JSON parser cannot take, checked in one place for every channel.

PostgreSQL's text columns refuse NUL (0x00), psycopg cannot encode a lone surrogate ("\\ud800" in
JSON), Python's json module recurses once per nesting level and refuses integers of more than 4,300
digits, and a case's free text has no use for C0 control characters (XLSX exports refuse them too).
Every form inherits the check from `intake.forms.IntakeForm`; every JSON view reads its body with
`json_object()`. Either way the answer is a field error, never a 500.
"""

import json
import re

from flask import request
from flask_babel import gettext as _

MAX_DEPTH = 8  # the deepest JSON any of our endpoints reads is 2 ({"complainant": {"name": …}})
MAX_INT = 2**53  # beyond this a JSON number is not an id, a count or a time we could store
# NUL and the other C0 controls (tab, LF and CR are text), and UTF-16 surrogates standing alone.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (in Chinese), or None when it can."""
    match = _UNSAFE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return _("内容中含有空字符（NUL），无法保存，请删除后重新提交。")
    if "\ud800" <= match.group() <= "\udfff":
        return _("内容中含有无效的字符编码（单独的代理字符），请删除后重新提交。")
    return _("内容中含有控制字符，无法保存，请删除后重新提交。")


class BadJson(ValueError):
    """A JSON body we cannot take: `field` is where (a dotted path, or "body"), `message` why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message

    def errors(self) -> dict:
        return {self.field: [self.message]}


def _reject_constant(name: str):
    raise BadJson("body", _("请求内容中的数字 %(n)s 无效。", n=name))


def loads_object(body: bytes) -> dict:
    """A JSON object from raw bytes, or BadJson naming the field that cannot be taken."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("body", _("请求内容不是有效的 UTF-8 编码。")) from None
    if "\x00" in text:  # outside a string a NUL is not JSON; inside one it is an escape
        raise BadJson("body", _("请求内容中含有空字符（NUL）。"))
    if _too_deep(text):
        raise BadJson("body", _("请求内容嵌套过深（最多 %(n)d 层）。", n=MAX_DEPTH))
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except BadJson:
        raise
    except (ValueError, RecursionError):  # bad JSON, or an integer of more than 4,300 digits
        raise BadJson("body", _("请求内容不是有效的 JSON。")) from None
    if not isinstance(data, dict):
        raise BadJson("body", _("请求内容必须是 JSON 对象。"))
    _check(data, "")
    return data


def json_object() -> dict:
    """The request's JSON body (Content-Type application/json) as a dict, or BadJson."""
    if not request.is_json:
        raise BadJson("body", _("请求内容必须是 JSON 对象。"))
    return loads_object(request.get_data(cache=True))


def _too_deep(text: str) -> bool:
    """More than MAX_DEPTH open brackets at once, counted outside strings, before parsing."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _check(value, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            problem = text_problem(key)
            if problem:
                raise BadJson(path or "body", problem)
            _check(item, where)
    elif isinstance(value, list):
        for item in value:
            _check(item, path)
    elif isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise BadJson(path or "body", problem)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and abs(value) > MAX_INT:
        raise BadJson(path or "body", _("数字太大。"))
    elif isinstance(value, float) and abs(value) > MAX_INT:
        raise BadJson(path or "body", _("数字太大。"))
