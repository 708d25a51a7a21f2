"""Open311 GeoReport v2: the services we offer, API keys, filing a request and the public view of it.

Who may read what: `GET requests` and `GET requests/{id}` answer only for the requests the
given API key filed, never for other cases. A case's public view is otherwise behind its
lookup code (intake/cases/lookup.py): tracking numbers are printed on receipts and read out over the
phone, so they are not secrets, and a listing open to anyone (or to any key) would show every
citizen's history and result without the code that guards it. The organisation that filed a
request already knows what it filed, so showing it that request's public view takes nothing from
anyone. What is shown is the citizen's public view only (`public_view`): never the complainant's or
tipper's name or phone, never internal notes or the router's reasons. `tokens/{token}` needs no key:
a token is random and only gives the tracking number of the request it was issued for.
"""

import hashlib
import secrets
import uuid
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from intake.cases.forms import industry_choices
from intake.cases.kinds import KINDS, CaseKind, Identity
from intake.cases.lookup import public_view
from intake.cases.models import Case, CaseStatus
from intake.cases.services import Submission, submit_case
from intake.extensions import db
from intake.open311.models import ApiKey, Open311Request
from intake.reference.cache import cached
from intake.reference.models import Division, DivisionLevel
from intake.types import utcnow
from routing.calendar import TZ

KEY_PREFIX = "o311_"
SEPARATOR = "-"  # service code = industry code, "-", case kind: "pharmacy-complaint"
CLOSED = "closed"
OPEN = "open"


class Open311Error(Exception):
    """An answer in the spec's error format: [{"code": status, "description": …}, …]."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(status, descriptions)
        self.http_status = status
        self.descriptions = [str(d) for d in descriptions]

    def body(self) -> list[dict]:
        return [{"code": self.http_status, "description": d} for d in self.descriptions]


# --- API keys ------------------------------------------------------------------------------------


def hash_key(raw: str) -> str:
    """SHA-256 is enough: a key is 256 random bits, nothing a dictionary could guess."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_key(organisation: str, rate_limit: str, actor=None) -> tuple[ApiKey, str]:
    """A new key (flushed) and the key itself, which is shown once and never stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organisation=organisation.strip(),
        key_hash=hash_key(raw),
        prefix=raw[: len(KEY_PREFIX) + 6],
        rate_limit=rate_limit.strip(),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(key)
    db.session.flush()
    return key, raw


def revoke_key(key_id: int, actor=None) -> ApiKey | None:
    key = db.session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        key.revoked_by_id = getattr(actor, "id", None)
    return key


def key_list() -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id.desc())))


def key_for(raw: str | None) -> ApiKey | None:
    """The key with this text (active or revoked), or None."""
    if not raw:
        return None
    return db.session.scalar(sa.select(ApiKey).filter_by(key_hash=hash_key(raw)))


def active_key(raw: str | None) -> ApiKey:
    """The active key, or the spec's 403."""
    if not raw:
        raise Open311Error(403, _("缺少 api_key：请向系统管理员申请。"))
    key = key_for(raw)
    if key is None or not key.active:
        raise Open311Error(403, _("api_key 无效或已被吊销。"))
    return key


# --- services ------------------------------------------------------------------------------------


def service_code(industry: str, kind: CaseKind) -> str:
    return f"{industry}{SEPARATOR}{kind.value}"


def parse_service_code(code: str) -> tuple[str, CaseKind] | None:
    """(industry code, kind) of a service code we offer, else None."""
    industry, _sep, kind = (code or "").rpartition(SEPARATOR)
    if kind not in {k.value for k in KINDS} or industry not in dict(industry_choices()):
        return None
    return industry, CaseKind(kind)


def service_list() -> list[dict]:
    """One service per industry (the reference table) and case kind (intake/cases/kinds.py)."""
    return [
        {
            "service_code": service_code(code, kind),
            "service_name": f"{name}{spec.label}",
            "description": str(spec.choice),
            "metadata": True,
            "type": "realtime",  # the tracking number is given at once
            "keywords": f"{spec.label},{name}",
            "group": name,
        }
        for code, name in industry_choices()
        for kind, spec in KINDS.items()
    ]


def townships() -> list[tuple[str, str]]:
    """(code, "county township") of every township: the township attribute's values."""

    def read():
        county = orm.aliased(Division)
        query = (
            sa.select(Division.code, county.name, Division.name)
            .join(county, county.code == Division.parent_code)
            .where(Division.level == DivisionLevel.TOWNSHIP)
            .order_by(Division.code)
        )
        return [(code, f"{county_name}{name}") for code, county_name, name in db.session.execute(query)]

    return cached("open311_townships", ("division",), read)


def _yes_no(yes: str, no: str) -> list[dict]:
    return [{"key": "false", "name": no}, {"key": "true", "name": yes}]


def service_definition(code: str) -> dict | None:
    """The attributes we ask for beyond the spec's fields (kind, business, township, anonymous, urgent)."""
    parsed = parse_service_code(code)
    if parsed is None:
        return None
    _industry, kind = parsed
    spec = KINDS[kind]
    attributes = [
        {
            "variable": False,
            "code": "kind",
            "datatype": "string",
            "required": False,
            "datatype_description": None,
            "order": 1,
            "description": _("类型：%(label)s（%(choice)s）", label=spec.label, choice=spec.choice),
        },
        {
            "variable": True,
            "code": "business_name",
            "datatype": "string",
            "required": False,
            "datatype_description": _("不超过 200 个字"),
            "order": 2,
            "description": _("商家名称（店名）"),
        },
        {
            "variable": True,
            "code": "township",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 3,
            "description": _("商家所在的乡镇或街道（不清楚可不选）：写在地址前面，按地址分拨"),
            "values": [{"key": c, "name": n} for c, n in townships()],
        },
    ]
    if spec.identity is Identity.MAY_BE_ANONYMOUS:
        attributes.append(
            {
                "variable": True,
                "code": "anonymous",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 4,
                "description": _("匿名举报（不留姓名和电话）"),
                "values": _yes_no(_("匿名"), _("实名")),
            }
        )
    attributes.append(
        {
            "variable": True,
            "code": "urgent",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 5,
            "description": _("情况紧急（如正在发生的安全隐患）"),
            "values": _yes_no(_("紧急"), _("不紧急")),
        }
    )
    return {"service_code": code, "attributes": attributes}


# --- requests ------------------------------------------------------------------------------------


def file_request(submission: Submission, code: str, key: ApiKey, lat=None, long=None) -> tuple[Case, Open311Request]:
    """File the case as every channel does (submit_case), and note which key filed it, with a token."""
    case, _code = submit_case(
        replace(submission, lat=lat, long=long), actor=f"Open311：{key.organisation}"[:64], receipt="web_receipt"
    )
    link = Open311Request(case_id=case.id, api_key_id=key.id, service_code=code, token=str(uuid.uuid4()))
    db.session.add(link)
    db.session.flush()
    return case, link


def token_request(token: str) -> Open311Request | None:
    return db.session.scalar(sa.select(Open311Request).filter_by(token=token))


def find_requests(
    key: ApiKey,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: set[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[Open311Request]:
    """The key's own requests: by tracking numbers (which overrides the rest), or by the filters."""
    query = sa.select(Open311Request).join(Case).where(Open311Request.api_key_id == key.id)
    if ids is not None:
        query = query.where(Case.tracking_no.in_(ids))
    else:
        if service_codes:
            query = query.where(Open311Request.service_code.in_(service_codes))
        if statuses == {CLOSED}:
            query = query.where(Case.status == CaseStatus.CLOSED)
        elif statuses == {OPEN}:
            query = query.where(Case.status != CaseStatus.CLOSED)
        if start is not None:
            query = query.where(Case.received_at >= start)
        if end is not None:
            query = query.where(Case.received_at <= end)
    query = query.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)
    case = orm.selectinload(Open311Request.case)
    loads = [case.selectinload(rel) for rel in (Case.events, Case.clocks, Case.lead_department, Case.merged_into)]
    return list(db.session.scalars(query.options(*loads)))


def request_views(links: list[Open311Request]) -> list[dict]:
    names = {s["service_code"]: s["service_name"] for s in service_list()}
    return [request_view(link, names) for link in links]


def request_view(link: Open311Request, names: dict | None = None) -> dict:
    """A request as Open311 shows it: the citizen's public view of the case, in the spec's fields."""
    case = link.case
    names = names if names is not None else {s["service_code"]: s["service_name"] for s in service_list()}
    view = public_view(case)
    running = [d["due_at"] for d in view["deadlines"] if d["running"]]
    return {
        "service_request_id": case.tracking_no,
        "status": CLOSED if case.status is CaseStatus.CLOSED else OPEN,
        "status_notes": _status_notes(view),
        "service_name": names.get(link.service_code),
        "service_code": link.service_code,
        "description": None,  # the citizen's own words may name them: not part of the public view
        "agency_responsible": (view["lead_department"] or {}).get("name"),
        "service_notice": view["status_label"],
        "requested_datetime": _w3(view["received_at"]),
        "updated_datetime": _w3(case.updated_at.astimezone(TZ).isoformat()),
        "expected_datetime": _w3(max(running, key=datetime.fromisoformat)) if running else None,
        "address": case.business_address or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.long,
        "media_url": None,
    }


def _status_notes(view: dict) -> str:
    """The public history, one line an entry (what the citizen's lookup shows), then the result."""
    lines = []
    for entry in view["history"]:
        at = datetime.fromisoformat(entry["at"]).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{at} {entry['label']}" + (f"：{entry['note']}" if entry["note"] else ""))
    if view["result"]:
        lines.append(_("办理结果：%(result)s", result=view["result"]))
    return "\n".join(lines)


def _w3(iso: str) -> str:
    """ISO 8601 to the second, with the offset (the spec's w3 format)."""
    return datetime.fromisoformat(iso).isoformat(timespec="seconds")
