"""Open311 GeoReport v2 (/open311/v2/): the spec's shapes (checked against open311/schema-validation's
JSON schemas), its errors, the same content in XML, and the citizen's public view only."""

import pytest
import sqlalchemy as sa

from intake.cases.events import record
from intake.cases.models import Case
from intake.extensions import db
from intake.open311 import services
from intake.open311.models import ApiKey, Open311Request
from intake.reference.models import Industry
from tests.intake.open311_helpers import as_text, validate, xml_as_json
from tests.intake.test_throttles import throttled  # noqa: F401  (a fixture)

BASE = "/open311/v2"
OUBEI = "330324009"  # 瓯北街道, 永嘉县
PHARMACY = {
    "service_code": "pharmacy-complaint",
    "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
    "address_string": "浙江省温州市永嘉县瓯北街道罗浮大街88号",
    "lat": "28.0473",
    "long": "120.6512",
    "first_name": "明",
    "last_name": "李",
    "phone": "138 1234 5678",
    "email": "liming@example.com",
    "attribute[business_name]": "好日子大药房",
}
SECRET_BITS = ("李明", "13812345678", "138 1234 5678", "liming@example.com")


def issue(organisation="温州市民通 App", rate="100 per minute") -> str:
    _key, raw = services.issue_key(organisation, rate)
    db.session.commit()
    return raw


def post(client, key, fmt="json", **changes):
    data = {**PHARMACY, **changes}
    if key is not None:
        data["api_key"] = key
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def test_services_are_every_industry_by_every_kind_as_the_schema_says(client):
    body = client.get(f"{BASE}/services.json").get_json()
    validate("services", body)
    industries = db.session.scalar(sa.select(sa.func.count()).select_from(Industry))
    assert len(body) == industries * 4
    pharmacy = next(s for s in body if s["service_code"] == "pharmacy-complaint")
    assert pharmacy["service_name"] == "小药店投诉" and pharmacy["metadata"] is True and pharmacy["group"] == "小药店"
    xml = client.get(f"{BASE}/services.xml")
    assert xml.content_type.startswith("text/xml")
    assert xml_as_json(xml.data) == as_text(body)


def test_a_service_definition_asks_for_the_township_from_the_divisions(client):
    body = client.get(f"{BASE}/services/grocery-tip.json").get_json()
    validate("service-definition", body)
    attributes = {a["code"]: a for a in body["attributes"]}
    assert attributes["kind"]["variable"] is False and "举报" in attributes["kind"]["description"]
    township = attributes["township"]
    assert township["datatype"] == "singlevaluelist"
    assert {"key": OUBEI, "name": "永嘉县瓯北街道"} in township["values"]
    assert [v["key"] for v in attributes["anonymous"]["values"]] == ["false", "true"]
    complaint = client.get(f"{BASE}/services/grocery-complaint.json").get_json()
    assert "anonymous" not in {a["code"] for a in complaint["attributes"]}  # a complaint is never anonymous
    assert xml_as_json(client.get(f"{BASE}/services/grocery-tip.xml").data) == as_text(body)


def test_an_unknown_service_code_is_the_specs_404(client):
    key = issue()
    for resp in (client.get(f"{BASE}/services/bakery-complaint.json"), post(client, key, service_code="x-complaint")):
        assert resp.status_code == 404
        [error] = resp.get_json()
        assert error["code"] == 404 and error["description"]
    xml = client.get(f"{BASE}/services/bakery-complaint.xml")
    [error] = xml_as_json(xml.data)
    assert xml.status_code == 404 and error["code"] == "404" and "bakery-complaint" in error["description"]


def test_post_without_a_key_or_with_a_revoked_one_is_refused_with_403(client):
    before = db.session.scalar(sa.select(sa.func.count(Case.id)))
    resp = post(client, None)
    assert resp.status_code == 403 and resp.get_json()[0]["code"] == 403
    assert post(client, "o311_not-a-key").status_code == 403
    raw = issue()
    services.revoke_key(services.key_for(raw).id)
    db.session.commit()
    resp = post(client, raw, fmt="xml")
    assert resp.status_code == 403 and xml_as_json(resp.data)[0]["code"] == "403"
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == before


def test_bad_or_missing_parameters_are_400s_naming_the_parameter(client):
    key = issue()
    cases = {
        "service_code": {"service_code": None},
        "description": {"description": "太短"},
        "phone": {"phone": None},  # a complaint needs a phone: the web form's rule
        "lat": {"lat": "north"},
        "attribute[township]": {"attribute[township]": "999"},
        "attribute[urgent]": {"attribute[urgent]": "maybe"},
    }
    for name, changes in cases.items():
        resp = post(client, key, **changes)
        assert resp.status_code == 400, name
        errors = resp.get_json()
        assert all(e["code"] == 400 for e in errors) and any(name in e["description"] for e in errors), (name, errors)
    resp = post(client, key, address_string=None, lat=None, long=None)
    assert resp.status_code == 400 and "address_string" in resp.get_json()[0]["description"]


def test_a_filed_request_is_routed_and_read_back_as_the_schema_says(client, run_jobs):
    key = issue()
    resp = post(client, key)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    [created] = resp.get_json()
    number, token = created["service_request_id"], created["token"]
    case = db.session.scalar(sa.select(Case).filter_by(tracking_no=number))
    link = db.session.get(Open311Request, case.id)
    assert link.api_key.organisation == "温州市民通 App" and case.events[0].actor_label == "Open311：温州市民通 App"
    assert (case.lat, case.long) == (28.0473, 120.6512)
    assert case.complainant_name == "李明" and case.complainant_phone == "+8613812345678"

    assert client.get(f"{BASE}/tokens/{token}.json").get_json() == [{"service_request_id": number, "token": token}]
    before = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key}).get_json()
    assert before[0]["agency_responsible"] is None and before[0]["expected_datetime"] is None

    assert run_jobs() >= 1
    body = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key}).get_json()
    validate("requests", body)
    [request] = body
    validate("request", request)
    assert request["service_code"] == "pharmacy-complaint" and request["status"] == "open"
    assert request["agency_responsible"] == "永嘉县市场监督管理局"
    assert request["expected_datetime"] and request["expected_datetime"].endswith("+08:00")
    assert request["address"] == PHARMACY["address_string"] and (request["lat"], request["long"]) == (28.0473, 120.6512)
    assert [line.split(" ", 2)[2] for line in request["status_notes"].splitlines()] == ["登记", "转交承办部门"]
    xml = client.get(f"{BASE}/requests/{number}.xml", query_string={"api_key": key})
    assert xml_as_json(xml.data) == as_text(body)


def test_the_open311_view_never_shows_who_filed_or_what_staff_noted(client, run_jobs):
    key = issue()
    number = post(client, key).get_json()[0]["service_request_id"]
    run_jobs()
    case = db.session.scalar(sa.select(Case).filter_by(tracking_no=number))
    record(case, "note", "内部人员", reason="内部备注：投诉人是店主的前员工", public=False)
    db.session.commit()
    answers = [
        client.get(f"{BASE}/requests/{number}.{fmt}", query_string={"api_key": key}).get_data(as_text=True)
        for fmt in ("json", "xml")
    ] + [
        client.get(f"{BASE}/requests.{fmt}", query_string={"api_key": key}).get_data(as_text=True)
        for fmt in ("json", "xml")
    ]
    assert all(number in text for text in answers)
    secrets = (*SECRET_BITS, "内部备注", "前员工", *(case.routing or {}).get("reasons", []))
    for text in answers:
        for secret in secrets:
            assert secret not in text, secret
    assert "+8613812345678" not in "".join(answers)


def test_a_key_reads_only_its_own_requests(client):
    mine, theirs = issue("甲"), issue("乙")
    number = post(client, mine).get_json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": theirs}).status_code == 404
    assert client.get(f"{BASE}/requests.json", query_string={"api_key": theirs}).get_json() == []
    assert [
        r["service_request_id"] for r in client.get(f"{BASE}/requests.json", query_string={"api_key": mine}).get_json()
    ] == [number]
    resp = client.get(f"{BASE}/requests.json")
    assert resp.status_code == 403 and resp.get_json()[0]["code"] == 403


def test_the_list_filters_as_the_spec_says(client):
    key = issue()
    a = post(client, key).get_json()[0]["service_request_id"]
    b = post(client, key, service_code="pharmacy-inquiry", phone=None, first_name=None, last_name=None).get_json()[0][
        "service_request_id"
    ]

    def ids(**args):
        resp = client.get(f"{BASE}/requests.json", query_string={"api_key": key, **args})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return sorted(r["service_request_id"] for r in resp.get_json())

    assert ids() == sorted([a, b])
    assert ids(service_code="pharmacy-inquiry") == [b]
    assert ids(service_request_id=f"{a},999") == [a]
    assert ids(status="open") == sorted([a, b]) and ids(status="closed") == []
    assert ids(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z") == []
    for bad in (
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    ):
        resp = client.get(f"{BASE}/requests.json", query_string={"api_key": key, **bad})
        assert resp.status_code == 400 and resp.get_json()[0]["code"] == 400, bad
    xml = client.get(f"{BASE}/requests.xml", query_string={"api_key": key})
    assert xml_as_json(xml.data) == as_text(
        client.get(f"{BASE}/requests.json", query_string={"api_key": key}).get_json()
    )


def test_the_row_limit_is_a_setting(client, app, monkeypatch):
    key = issue()
    for _ in range(3):
        post(client, key)
    monkeypatch.setitem(app.config, "OPEN311_MAX_ROWS", 2)
    assert len(client.get(f"{BASE}/requests.json", query_string={"api_key": key}).get_json()) == 2


def test_jurisdiction_id_is_checked_when_one_is_configured(client, app, monkeypatch):
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "anything"}).status_code == 200
    monkeypatch.setitem(app.config, "OPEN311_JURISDICTION_ID", "yongjia.example")
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "yongjia.example"}).status_code == 200
    resp = client.get(f"{BASE}/services.xml", query_string={"jurisdiction_id": "haining.example"})
    assert resp.status_code == 400 and xml_as_json(resp.data)[0]["code"] == "400"


def test_discovery_names_the_endpoint_in_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").get_json()
    [endpoint] = body["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["formats"] == ["application/json", "text/xml"]
    assert xml_as_json(client.get(f"{BASE}/discovery.xml").data) == as_text(body)


def test_only_a_hash_of_the_key_is_stored(client):
    raw = issue()
    key = db.session.scalar(sa.select(ApiKey))
    assert raw not in (key.key_hash, key.prefix) and key.key_hash == services.hash_key(raw)
    assert raw.startswith(key.prefix)


def test_an_administrator_issues_a_key_shown_once_and_revokes_it(client, make_user, login):
    from intake.accounts.models import Role

    login(make_user("admin1", role=Role.ADMIN, county=None, kind=None))
    page = client.get("/admin/open311-keys")
    assert page.status_code == 200 and "60 per minute;2000 per day" in page.get_data(as_text=True)
    resp = client.post(
        "/admin/open311-keys", data={"key-organisation": "温州市民通 App", "key-rate_limit": "5 per minute"}
    )
    text = resp.get_data(as_text=True)
    raw = text.split('id="new-key-value">')[1].split("<")[0]
    assert resp.status_code == 200 and raw.startswith("o311_")
    assert raw not in client.get("/admin/open311-keys").get_data(as_text=True)  # once
    key = services.key_for(raw)
    assert key.organisation == "温州市民通 App" and key.rate_limit == "5 per minute" and key.created_by_id
    assert post(client, raw).status_code == 201
    bad = client.post("/admin/open311-keys", data={"key-organisation": "某单位", "key-rate_limit": "often"})
    assert bad.status_code == 400
    assert client.post(f"/admin/open311-keys/{key.id}/revoke").status_code == 302
    db.session.expire_all()
    assert not services.key_for(raw).active
    assert post(client, raw).status_code == 403


@pytest.mark.usefixtures("throttled")
def test_each_key_has_its_own_rate_limit(client):
    slow, other = issue("慢单位", "2 per minute"), issue("另一单位", "100 per minute")
    assert [post(client, slow).status_code for _ in range(2)] == [201, 201]
    resp = post(client, slow)
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 60
    assert resp.get_json()[0]["code"] == 429
    assert post(client, other).status_code == 201  # another key's count is its own
    assert post(client, None).status_code == post(client, "o311_wrong").status_code == 403  # no key: no count
    assert client.get(f"{BASE}/requests.json", query_string={"api_key": slow}).status_code == 429  # GETs count too


def test_staff_see_the_point_and_who_filed_it(client, make_user, login):
    from intake.accounts.models import Role

    number = post(client, issue()).get_json()[0]["service_request_id"]
    case = db.session.scalar(sa.select(Case).filter_by(tracking_no=number))
    login(make_user("dispatcher1", role=Role.DISPATCHER, county=None, kind=None))
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "28.0473, 120.6512" in page and "Open311：温州市民通 App" in page
