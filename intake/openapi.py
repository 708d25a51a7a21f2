"""The OpenAPI 3.1 document of every JSON route, written from the routes' own pydantic models.

A route is in the document by one declaration next to its view, under its `@bp.post(…)`:

    @bp.post("/cases")
    @documented("登记案件", body=CaseIn, responses={201: ("已登记", CaseCreated), 422: ("…", FieldErrors)})
    def create_case(): …

`document(app)` walks the app's URL map for the views so marked (built once per app).

Why pydantic's own `model_json_schema` and this small module rather than a library:
- pydantic writes JSON Schema 2020-12, which is what OpenAPI 3.1 uses for schemas; we need pydantic
  anyway for the validation, it is the best-kept of the candidates, and the rest of a document
  (paths, parameters, responses) is plain data.
- spectree (3.0) and flask-openapi3 (4.3) validate the request themselves, with their own error
  answers and body parsing; our JSON is read by `intake.inputs.json_object` first (nesting depth,
  NUL, bad UTF-8, huge numbers), and answered `{"errors": {"a.b": ["…"]}}` in Chinese on every
  channel. flask-openapi3 also wants its own app and blueprint classes in place of Flask's.
- apispec is well kept, but its pydantic plugin (0.8) only hands `model_json_schema()` through,
  and apispec's own model of a document adds a layer we would not use.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str = ""
    body: type[BaseModel] | None = None
    responses: dict = field(default_factory=dict)  # status -> (description, model or None[, headers])
    headers: tuple = ()  # (name, description, required) of header parameters
    security: str | None = None  # a key of SECURITY_SCHEMES
    tag: str = "api"
    links: dict = field(default_factory=dict)  # status -> {name: OpenAPI link object}: what a client does next
    form: type[BaseModel] | None = None  # a form-encoded body (Open311's POST), in place of `body`
    query: type[BaseModel] | None = None  # the query parameters, one per field
    path_values: dict = field(default_factory=dict)  # a URL variable documented as one fixed value ({"fmt": "json"})


SECURITY_SCHEMES = {
    "hotlineToken": {"type": "http", "scheme": "bearer", "description": "话务系统令牌（HOTLINE_TOKEN）"},
    "smsSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "短信网关对请求体的签名：HMAC-SHA256(SMS_WEBHOOK_SECRET, 请求体) 的十六进制",
    },
    "open311Key": {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
        "description": "Open311 的 api_key（系统管理员签发；也可放在 POST 的表单中）",
    },
}


def documented(summary: str, **details):
    """Mark a view for the OpenAPI document (see the module's docstring for an example)."""
    operation = Operation(summary, **details)

    def mark(view):
        view.openapi = operation
        return view

    return mark


def document(app) -> dict:
    """The document of every marked view of this app (built on first use, then kept)."""
    built = app.extensions.get("openapi")
    if built is None:
        built = app.extensions["openapi"] = _build(app)
    return built


def _operations(app) -> Iterable[tuple[str, str, object, Operation]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operation = getattr(app.view_functions.get(rule.endpoint), "openapi", None)
        if operation is None:
            continue
        for method in sorted(m.lower() for m in rule.methods or ()):
            if method in METHODS:
                yield method, rule, rule.endpoint, operation


def _models(operations) -> list[tuple[type[BaseModel], str]]:
    seen: dict = {}
    for _method, _rule, _endpoint, op in operations:
        for model in (op.body, op.form):
            if model is not None:
                seen[(model, "validation")] = None
        for answer in op.responses.values():
            if answer[1] is not None:
                seen[(answer[1], "serialization")] = None
    return list(seen)


_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path(rule, fixed: dict) -> tuple[str, list[dict]]:
    """Flask's /cases/<no> as OpenAPI's /cases/{no}, with its path parameters; a variable in `fixed`
    is written as its value (/requests.<any(json, xml):fmt> as /requests.json)."""
    parameters = []
    for converter, name in _VARIABLE.findall(rule.rule):
        if name in fixed:
            continue
        schema = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string", "maxLength": 32}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    path = _VARIABLE.sub(lambda m: fixed.get(m.group(2)) or "{" + m.group(2) + "}", rule.rule)
    return path, parameters


def _query(model: type[BaseModel] | None) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _build(app) -> dict:
    operations = list(_operations(app))
    models = _models(operations)
    refs, schemas = models_json_schema(models, ref_template=REF)
    paths: dict = {}
    for method, rule, endpoint, op in operations:
        path, parameters = _path(rule, op.path_values)
        parameters += _query(op.query)
        parameters += [
            {"name": name, "in": "header", "required": required, "description": text, "schema": {"type": "string"}}
            for name, text, required in op.headers
        ]
        entry = {"operationId": endpoint, "summary": op.summary, "tags": [op.tag], "responses": {}}
        if op.description:
            entry["description"] = op.description
        if parameters:
            entry["parameters"] = parameters
        if op.security:
            entry["security"] = [{op.security: []}]
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        if op.form is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": refs[(op.form, "validation")]}},
            }
        for status, (text, model, *headers) in sorted(op.responses.items()):
            answer = {"description": text}
            if model is not None:
                answer["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
            if headers:
                answer["headers"] = {name: {"schema": {"type": "string"}} for name in headers[0]}
            if status in op.links:
                answer["links"] = op.links[status]
            entry["responses"][str(status)] = answer
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "十小行业投诉举报受理系统 JSON 接口",
            "version": "1",
            "description": "市民与合作系统登记案件、查询进度；短信网关与话务系统的回调。错误信息为简体中文。",
        },
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


def fields_of(schema: dict, components: dict, prefix: str = "") -> list[dict]:
    """A schema's properties as rows for a page: name (dotted), type, required, limits, description."""
    schema = _resolve(schema, components)
    if schema.get("type") == "array" and "items" in schema:  # Open311 answers: a list of objects
        schema = _resolve(schema["items"], components)
    rows = []
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, components)
        choices = [_resolve(c, components) for c in prop.get("anyOf", [prop])]
        items = [_resolve(c["items"], components) for c in choices if c.get("type") == "array" and "items" in c]
        nested = next((c for c in choices + items if "properties" in c), None)
        types = [c.get("type", "object") if "properties" not in c else "object" for c in choices]
        limits = [f"{k} {c[k]}" for c in choices for k in ("minLength", "maxLength", "minimum", "maximum") if k in c]
        limits += [" | ".join(map(str, c["enum"])) for c in choices if "enum" in c]
        rows.append(
            {
                "name": prefix + name,
                "type": " 或 ".join(dict.fromkeys(t if isinstance(t, str) else "/".join(t) for t in types)),
                "required": name in required,
                "limits": "；".join(limits),
                "description": prop.get("description", ""),
            }
        )
        if nested is not None:
            rows += fields_of(nested, components, prefix + name + ("[]." if items else "."))
    return rows


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref")
    return components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
