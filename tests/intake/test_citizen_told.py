"""The citizen is told: a transfer out says where to turn, a merged complainant follows the master
case, SMS go only to numbers that can receive them, the lookup takes the code as people type it,
and the words a citizen reads say what is true."""

import re
from types import SimpleNamespace

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.callbacks.models import Answer, Callback
from intake.callbacks.services import answer_by_sms
from intake.callbacks.tasks import sweep_callbacks
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from intake.phones import can_receive_sms
from notify.backends import MemoryBackend
from notify.models import Message
from tests.intake.test_api import PHARMACY
from tests.intake.test_dispatch import VAGUE, post

LANDLINE = "0577 6712 3456"  # 永嘉 (Wenzhou) fixed line
OTHER = "+8613900001111"


def sms_to(phone: str) -> list[str]:
    return [body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone]


def test_only_mobiles_can_receive_sms():
    assert can_receive_sms("+8613812345678") and can_receive_sms("138 1234 5678")
    assert not can_receive_sms("+8657767123456") and not can_receive_sms(LANDLINE)
    assert not can_receive_sms("") and not can_receive_sms("12315") and not can_receive_sms(None)


def test_a_transfer_out_sends_the_citizen_the_dispatchers_words(client, run_jobs, make_user, login):
    created = post(client, VAGUE)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.status is CaseStatus.TRIAGE
    case_id = case.id
    login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    where = "劳动工资问题请向永嘉县人力资源和社会保障局反映，电话0577-67221234。"
    MemoryBackend.sent.clear()
    client.post(f"/dispatch/cases/{case_id}/transfer", data={"reason": where})
    client.post("/logout")
    run_jobs()
    case = db.session.get(Case, case_id)
    assert case.status is CaseStatus.CLOSED
    (text,) = sms_to("+8613812345678")
    assert case.tracking_no in text and where in text

    found = client.post("/lookup", data={"tracking_no": case.tracking_no, "lookup_code": created["lookup_code"]})
    assert "不属本平台受理范围" in found.get_data(as_text=True)


def test_a_merged_complainant_follows_the_master_case(client, run_jobs, make_user, login):
    MemoryBackend.sent.clear()
    first = post(client, PHARMACY)
    second = post(
        client,
        {
            **PHARMACY,
            "complainant": {"name": "王红", "phone": "13900001111"},
            "description": "这家药店卖的感冒药已经过期两个月了，店员还不肯退换。",
        },
    )
    run_jobs()
    cases = {c.tracking_no: c for c in db.session.scalars(sa.select(Case))}
    master, dup = cases[first["tracking_no"]], cases[second["tracking_no"]]
    assert dup.duplicate_of_id == master.id
    login(make_user("yj-market"))
    master_id, master_no = master.id, master.tracking_no
    client.post(f"/dispatch/cases/{dup.id}/merge")
    client.post("/logout")
    run_jobs()

    lookup = client.get(
        f"/api/v1/cases/{second['tracking_no']}", headers={"X-Lookup-Code": second["lookup_code"]}
    ).get_json()
    assert lookup["status_label"] == f"已并入 {master_no}"
    assert lookup["merged_into"]["tracking_no"] == master_no
    assert lookup["merged_into"]["status_label"] == "已转交承办部门，待签收"

    login(SimpleNamespace(username="yj-market"))  # a job ran: the test's user object is gone
    client.post(f"/staff/cases/{master_id}/sign")
    client.post(f"/staff/cases/{master_id}/accept")
    MemoryBackend.sent.clear()
    client.post(f"/staff/cases/{master_id}/reply", data={"result": "mediated", "text": "已调解，店家退款。"})
    client.post("/logout")
    run_jobs()
    replies = sms_to(OTHER)
    assert len(replies) == 1 and second["tracking_no"] in replies[0] and "已办结" in replies[0]
    assert len([t for t in sms_to("+8613812345678") if "已办结" in t]) == 1  # the master's own complainant, once

    page = client.post("/lookup", data={"tracking_no": second["tracking_no"], "lookup_code": second["lookup_code"]})
    page = page.get_data(as_text=True)
    assert f"已并入 {master_no}" in page and 'id="merged-into"' in page and "已调解，店家退款。" in page

    callback = db.session.scalar(sa.select(Callback))
    MemoryBackend.sent.clear()
    assert sweep_callbacks(now=callback.ask_at)["asked"] == 1
    run_jobs()
    assert len([t for t in sms_to(OTHER) if "1满意" in t]) == 1
    assert len([t for t in sms_to("+8613812345678") if "1满意" in t]) == 1
    # the merged complainant may answer the master's survey
    assert answer_by_sms(OTHER, "1").answer is Answer.SATISFIED
    db.session.expire_all()
    assert db.session.get(Case, master_id).status is CaseStatus.CLOSED


def test_no_sms_is_queued_to_a_landline_from_the_web_form_or_the_api(client, run_jobs):
    resp = client.post("/api/v1/cases", json={**PHARMACY, "complainant": {"name": "李明", "phone": LANDLINE}})
    assert resp.status_code == 201
    page = client.post(
        "/",
        data={
            "kind": "complaint",
            "business_name": "好日子大药房",
            "business_address": "永嘉县瓯北街道罗浮大街88号",
            "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
            "complainant_name": "李明",
            "complainant_phone": LANDLINE,
        },
        follow_redirects=True,
    )
    assert re.search(r'id="tracking-no">(\d+)<', page.get_data(as_text=True))
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_the_lookup_takes_the_code_as_people_type_it(client):
    created = post(client, PHARMACY)
    no, code = created["tracking_no"], created["lookup_code"]
    spaced = f"{code[:3]} {code[3:]}"
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    for typed_no, typed_code in ((no, spaced), (no, full_width), (f"{no[:6]} {no[6:]}", code)):
        page = client.post("/lookup", data={"tracking_no": typed_no, "lookup_code": typed_code}).get_data(as_text=True)
        assert 'id="case-view"' in page, (typed_no, typed_code)
    wrong = "000000" if code != "000000" else "111111"
    page = client.post("/lookup", data={"tracking_no": no, "lookup_code": wrong}).get_data(as_text=True)
    assert 'id="case-view"' not in page


def test_citizens_read_registered_not_accepted_before_a_decision(client, run_jobs):
    created = post(client, VAGUE)
    view = client.get(
        f"/api/v1/cases/{created['tracking_no']}", headers={"X-Lookup-Code": created["lookup_code"]}
    ).get_json()
    assert view["status_label"] == "已登记，待转交承办部门"
    run_jobs()
    view = client.get(
        f"/api/v1/cases/{created['tracking_no']}", headers={"X-Lookup-Code": created["lookup_code"]}
    ).get_json()
    assert view["status_label"] == "已登记，正在确定承办部门"
    words = view["status_label"] + "".join(h["label"] for h in view["history"])
    assert "已受理" not in words and "分拨" not in words
    receipt = db.session.scalar(sa.select(Message.body).filter_by(template="web_receipt"))
    assert receipt is None or "已受理" not in receipt
