"""Reading Open311 parameters: a POST's fields into the one JSON case check, and GET's filters.

The case itself is checked by `intake.cases.schemas.submission_from_json`, the same rules as the
web form and the JSON API; this module only maps the spec's names to its JSON fields and back.
"""

import math
from datetime import datetime, timedelta

from flask_babel import gettext as _
from pydantic import ValidationError

from intake.cases.models import Channel
from intake.cases.schemas import InvalidCase, submission_from_json
from intake.cases.services import Submission
from intake.open311.schemas import RequestForm
from intake.open311.services import CLOSED, OPEN, Open311Error, parse_service_code, townships
from routing.calendar import TZ

# our JSON field -> the Open311 parameter a client sent it in (for error messages)
PARAMETER_OF = {
    "kind": "service_code",
    "industry": "service_code",
    "description": "description",
    "business_address": "address_string",
    "business_name": "attribute[business_name]",
    "anonymous": "attribute[anonymous]",
    "urgent": "attribute[urgent]",
    "complainant": "first_name/last_name/phone",
    "complainant.name": "first_name/last_name",
    "complainant.phone": "phone",
}
BOOLEAN_ATTRIBUTES = ("anonymous", "urgent")
MAX_IDS = 100


def submission_from_params(params) -> tuple[str, Submission, float | None, float | None]:
    """(service code, Submission, lat, long) of a POST requests, or Open311Error (400, or 404 for the code).

    The citizen's name and phone (first_name, last_name, phone) go to the case as the web form's
    do; email, device_id, account_id, address_id and media_url are accepted and not stored.
    """
    form = _form(params)
    code = form.service_code.strip()
    if not code:
        raise Open311Error(400, _("缺少参数 service_code。"))
    parsed = parse_service_code(code)
    if parsed is None:
        raise Open311Error(404, _("没有这个服务代码：%(code)s", code=code))
    industry, kind = parsed
    lat, long = _point(form.lat or "", form.long or "")
    address = (form.address_string or "").strip()
    if not address and lat is None and not form.address_id:
        raise Open311Error(400, _("请提供 address_string（商家地址）或 lat 和 long。"))
    body = {"kind": kind.value, "industry": industry, "description": form.description or ""}
    if form.township:
        names = dict(townships())
        if form.township not in names:
            raise Open311Error(400, _("attribute[township] 不是有效的乡镇代码：%(code)s", code=form.township))
        address = address if names[form.township] in address else names[form.township] + address
    if address:
        body["business_address"] = address
    if form.business_name:
        body["business_name"] = form.business_name
    for name in BOOLEAN_ATTRIBUTES:
        value = getattr(form, name)
        if value is not None:
            body[name] = value == "true"
    name = (params.get("last_name") or "").strip() + (params.get("first_name") or "").strip()  # 姓 then 名
    complainant = {k: v for k, v in (("name", name), ("phone", params.get("phone") or "")) if v}
    if complainant:
        body["complainant"] = complainant
    try:
        submission = submission_from_json(body, Channel.API)
    except InvalidCase as exc:
        raise Open311Error(
            400, *[f"{PARAMETER_OF.get(f, f)}: {m}" for f, messages in exc.errors.items() for m in messages]
        )
    return code, submission, lat, long


def _form(params) -> RequestForm:
    """The POST's fields by the documented model (intake/open311/schemas.py); its errors in Chinese."""
    fields = {k: v for k, v in params.to_dict().items() if v != ""}
    try:
        return RequestForm.model_validate(fields)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            if error["type"] == "missing":
                problems.append(_("缺少参数 %(name)s。", name=name))
            elif error["type"] == "literal_error":
                problems.append(_("%(name)s 须为 true 或 false。", name=name))
            else:
                problems.append(_("%(name)s 须为文字。", name=name))
        raise Open311Error(400, *problems)


def _point(raw_lat: str, raw_long: str) -> tuple[float | None, float | None]:
    if not raw_lat and not raw_long:
        return None, None
    try:
        lat, long = float(raw_lat), float(raw_long)
    except ValueError:
        raise Open311Error(400, _("lat 和 long 须同时提供，且为 WGS84 经纬度数值。"))
    if not (math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90 and -180 <= long <= 180):
        raise Open311Error(400, _("lat 须在 -90 到 90 之间，long 须在 -180 到 180 之间。"))
    return lat, long


def filters_from_args(args, max_days: int, max_rows: int, now: datetime) -> dict:
    """GET requests' filters, for services.find_requests; Open311Error(400) for a bad one."""
    ids = [i.strip() for i in (args.get("service_request_id") or "").split(",") if i.strip()]
    if ids:  # the spec: this overrides all other arguments
        if len(ids) > MAX_IDS:
            raise Open311Error(400, _("service_request_id 一次最多 %(n)d 个。", n=MAX_IDS))
        return {"ids": ids, "limit": max_rows}
    codes = [c.strip() for c in (args.get("service_code") or "").split(",") if c.strip()]
    statuses = {s.strip() for s in (args.get("status") or "").split(",") if s.strip()}
    if statuses - {OPEN, CLOSED}:
        raise Open311Error(400, _("status 只能是 open 或 closed。"))
    start, end = _when(args, "start_date"), _when(args, "end_date")
    span = timedelta(days=max_days)
    if start is None and end is None:
        end = now
    if start is None:
        start = end - span
    elif end is None:
        end = start + span
    if end < start:
        raise Open311Error(400, _("end_date 早于 start_date。"))
    if end - start > span:
        raise Open311Error(400, _("start_date 到 end_date 不能超过 %(days)d 天。", days=max_days))
    return {"service_codes": codes, "statuses": statuses or None, "start": start, "end": end, "limit": max_rows}


def _when(args, name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(400, _("%(name)s 须为 W3C 日期时间，例如 2026-12-01T00:00:00+08:00。", name=name))
    return value if value.tzinfo else value.replace(tzinfo=TZ)  # no offset: Beijing time
