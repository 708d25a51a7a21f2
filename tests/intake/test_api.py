"""The JSON API: good input is stored and routed, bad input is refused with the field named."""

import pytest
import sqlalchemy as sa

from intake.cases.models import Case, CaseStatus
from intake.extensions import db

PHARMACY = {
    "kind": "complaint",
    "business_name": "好日子大药房",
    "business_address": "浙江省温州市永嘉县瓯北街道罗浮大街88号",
    "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
    "complainant": {"name": "李明", "phone": "138 1234 5678"},
    "anonymous": False,
    "urgent": False,
}


def case_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Case.id)))


def test_pharmacy_case_is_dispatched_to_market_regulation_and_township(client, run_jobs):
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "received" and len(body["tracking_no"]) == 13 and len(body["lookup_code"]) == 6

    assert run_jobs() >= 1
    view = client.get(f"/api/v1/cases/{body['tracking_no']}", headers={"X-Lookup-Code": body["lookup_code"]}).get_json()
    assert view["status"] == "dispatched"
    assert view["industry"] == {"code": "pharmacy", "name": "小药店"}
    assert view["township"] == {"code": "330324009", "name": "瓯北街道"}
    assert view["lead_department"] == {"kind": "market", "name": "永嘉县市场监督管理局"}
    sign = [d for d in view["deadlines"] if d["clock"] == "sign"]
    assert sign and sign[0]["running"] and sign[0]["due_at"].endswith("+08:00")
    assert [h["action"] for h in view["history"]] == ["receive", "route"]


def test_phone_is_stored_in_e164(client):
    client.post("/api/v1/cases", json=PHARMACY)
    assert db.session.scalar(sa.select(Case.complainant_phone)) == "+8613812345678"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"description": ""}, "description"),
        ({"description": "药" * 50_000}, "description"),
        ({"complainant": {"name": "李明", "phone": "12345"}}, "complainant.phone"),
        ({"kind": "praise"}, "kind"),
        ({"kind": None}, "kind"),
        ({"urgent": "yes"}, "urgent"),
        ({"industry": "bank"}, "industry"),
        ({"complainant": {"name": "", "phone": ""}}, "complainant.name"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_stores_nothing(client, change, field):
    resp = client.post("/api/v1/cases", json={**PHARMACY, **change})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert field in errors and all(isinstance(m, str) and m for m in errors[field])
    assert case_count() == 0


def test_error_messages_are_in_chinese(client):
    errors = client.post("/api/v1/cases", json={**PHARMACY, "description": ""}).get_json()["errors"]
    assert "发生了什么" in errors["description"][0]


def test_body_that_is_not_a_json_object_is_refused(client):
    resp = client.post("/api/v1/cases", data="kind=complaint", content_type="text/plain")
    assert resp.status_code == 422 and "body" in resp.get_json()["errors"]
    assert case_count() == 0


def test_anonymous_tip_needs_no_name_or_phone(client):
    tip = {
        "kind": "tip",
        "business_address": "永嘉县瓯北街道",
        "anonymous": True,
        "description": "这家小饭店后厨老鼠很多，用地沟油炒菜。",
        "complainant": {"name": "王", "phone": "13812345678"},
    }
    assert client.post("/api/v1/cases", json=tip).status_code == 201
    case = db.session.scalar(sa.select(Case))
    assert case.anonymous and case.complainant_name == "" and case.complainant_phone == ""


def test_public_view_shows_no_personal_data(client):
    body = client.post("/api/v1/cases", json=PHARMACY).get_json()
    text = client.get(f"/api/v1/cases/{body['tracking_no']}", headers={"X-Lookup-Code": body["lookup_code"]}).get_data(
        as_text=True
    )
    assert "李明" not in text and "13812345678" not in text


def test_case_stays_received_until_a_worker_routes_it(client):
    body = client.post("/api/v1/cases", json=PHARMACY).get_json()
    assert db.session.scalar(sa.select(Case.status)) is CaseStatus.RECEIVED
    assert body["status"] == "received"
