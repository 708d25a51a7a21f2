"""Dispatchers route what the machine would not; duplicates are flagged and merged; business files."""

import json
import os

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.businesses.models import Business
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from tests.intake.test_api import PHARMACY

TWO_CASES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "two_labelled_cases.jsonl"
)

VAGUE = {
    **PHARMACY,
    "business_name": "",
    "business_address": "永嘉县",
    "description": "在县城一家药店买的感冒药过期了，老板不肯退钱。",
}


def post(client, payload) -> dict:
    resp = client.post("/api/v1/cases", json=payload)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def latest() -> Case:
    return db.session.scalar(sa.select(Case).order_by(Case.id.desc()))


def test_dispatcher_sees_the_machines_reasons_and_routes_by_hand(client, run_jobs, make_user, login):
    post(client, VAGUE)
    run_jobs()
    case = latest()
    assert case.status is CaseStatus.TRIAGE and case.industry_code == "pharmacy"
    dispatcher = make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None)
    login(dispatcher)
    queue = client.get("/dispatch/").get_data(as_text=True)
    assert case.tracking_no in queue and "转人工分拨" in queue

    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="dispatch-form"' in page and 'data-search="/places/search"' in page  # the place picker

    resp = client.post(
        f"/dispatch/cases/{case.id}/route", data={"township": "330324009 瓯北街道 永嘉县", "industry": "pharmacy"}
    )
    assert resp.status_code == 302
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.DISPATCHED
    assert case.lead_department.name == "永嘉县市场监督管理局" and case.township_code == "330324009"
    event = case.events[-1]
    assert event.action == "dispatch" and event.actor_label == "wangfang"
    assert event.data["correction"]["township"] == "330324009"
    assert case.running_clock("triage") is None and case.running_clock("sign") is not None


def test_other_industry_needs_a_lead_department_chosen(client, run_jobs, make_user, login):
    post(client, VAGUE)
    run_jobs()
    case = latest()
    login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    page = client.post(
        f"/dispatch/cases/{case.id}/route", follow_redirects=True, data={"township": "330324009", "industry": "other"}
    ).get_data(as_text=True)
    assert "请选择牵头部门" in page and latest().status is CaseStatus.TRIAGE
    client.post(
        f"/dispatch/cases/{case.id}/route", data={"township": "330324009", "industry": "other", "lead_kind": "commerce"}
    )
    assert latest().lead_department.name == "永嘉县商务局"


def test_department_staff_cannot_dispatch(client, run_jobs, make_user, login):
    post(client, VAGUE)
    run_jobs()
    login(make_user("yj-market"))
    assert client.get("/dispatch/").status_code == 403


def test_a_returned_case_lands_in_the_triage_queue(client, run_jobs, make_user, login):
    post(client, PHARMACY)
    run_jobs()
    case = latest()
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case.id}/return", data={"reason": "这是诊所，不是药店"})
    client.post("/logout")
    login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    assert case.tracking_no in client.get("/dispatch/").get_data(as_text=True)


def test_a_case_most_like_a_duplicate_is_flagged_as_a_duplicate_of_its_master(client, run_jobs):
    story = "这家药店卖的感冒药已经过期两个月了，店员还不肯退换。"
    first = post(client, PHARMACY)
    run_jobs()
    second = post(client, {**PHARMACY, "complainant": {"name": "王红", "phone": "13900001111"}, "description": story})
    run_jobs()
    third = post(client, {**PHARMACY, "complainant": {"name": "赵强", "phone": "13900002222"}, "description": story})
    run_jobs()
    cases = {c.tracking_no: c for c in db.session.scalars(sa.select(Case))}
    master = cases[first["tracking_no"]]
    assert cases[second["tracking_no"]].duplicate_of_id == master.id
    latest = cases[third["tracking_no"]]  # most like the second (the same words), flagged to the first
    assert latest.duplicate_of_id == master.id
    note = next(e for e in latest.events if e.action == "flag_duplicate")
    assert note.reason.startswith(f"疑似与 {master.tracking_no} 重复") and note.data["master"] == master.tracking_no


def test_same_business_same_matter_is_flagged_and_merged(client, run_jobs, make_user, login):
    first = post(client, PHARMACY)
    second = post(
        client,
        {
            **PHARMACY,
            "complainant": {"name": "王红", "phone": "13900001111"},
            "description": "这家药店卖的感冒药已经过期两个月了，店员还不肯退换。",
        },
    )
    other_matter = post(
        client,
        {
            **PHARMACY,
            "complainant": {"name": "赵强", "phone": "13900002222"},
            "description": "药店门口乱停电动车，挡住了人行道，让人没法走路。",
        },
    )
    run_jobs()
    cases = {c.tracking_no: c for c in db.session.scalars(sa.select(Case))}
    dup, master = cases[second["tracking_no"]], cases[first["tracking_no"]]
    assert dup.duplicate_of_id == master.id
    assert cases[other_matter["tracking_no"]].duplicate_of_id is None

    login(make_user("yj-market"))
    page = client.get(f"/staff/cases/{dup.id}").get_data(as_text=True)
    assert 'id="duplicate"' in page and master.tracking_no in page
    client.post(f"/dispatch/cases/{dup.id}/merge")
    dup = db.session.get(Case, dup.id)
    assert dup.status is CaseStatus.CLOSED and dup.merged_into_id == master.id
    assert dup.running_clock("sign") is None

    view = client.get(
        f"/api/v1/cases/{second['tracking_no']}", headers={"X-Lookup-Code": second["lookup_code"]}
    ).get_json()
    assert view["history"][-1]["action"] == "merge" and master.tracking_no in view["history"][-1]["note"]

    # The complainant of the merged case is told by SMS, once, whatever the reruns.
    from notify.backends import MemoryBackend
    from notify.models import Message
    from notify.tasks import send_message

    master_no = master.tracking_no
    MemoryBackend.sent.clear()
    run_jobs()
    assert MemoryBackend.sent == [("sms", "+8613900001111", MemoryBackend.sent[0][2])]
    assert second["tracking_no"] in MemoryBackend.sent[0][2] and master_no in MemoryBackend.sent[0][2]
    message = db.session.scalar(sa.select(Message))
    assert message.status.value == "sent" and send_message(message.id) == "skipped"
    assert len(MemoryBackend.sent) == 1


def test_one_shop_is_one_business_file_with_its_history(client, run_jobs, make_user, login):
    post(client, PHARMACY)
    post(
        client,
        {
            **PHARMACY,
            "business_name": "好日子大药房（罗浮店）",
            "complainant": {"name": "王红", "phone": "13900001111"},
            "description": "店里的口罩是三无产品，没有生产厂家。",
        },
    )
    post(client, {**PHARMACY, "business_name": "康宁药店", "description": "康宁药店卖处方药不要处方。"})
    run_jobs()
    businesses = db.session.scalars(sa.select(Business).order_by(Business.id)).all()
    assert [b.name for b in businesses] == ["好日子大药房", "康宁药店"]
    assert len(businesses[0].cases) == 2

    login(make_user("yj-market"))
    page = client.get(f"/staff/businesses/{businesses[0].id}").get_data(as_text=True)
    assert page.count("/staff/cases/") == 2


def test_supervisors_see_businesses_with_repeated_substantiated_cases(client, run_jobs, make_user, login):
    for phone, text in (("13900001111", "卖过期的感冒药，不肯退。"), ("13900002222", "处方药不凭处方随便卖。")):
        post(client, {**PHARMACY, "complainant": {"name": "甲", "phone": phone}, "description": text})
    run_jobs()
    staff = make_user("yj-market")
    login(staff)
    for case in db.session.scalars(sa.select(Case)).all():
        client.post(f"/staff/cases/{case.id}/sign")
        client.post(f"/staff/cases/{case.id}/accept")
        client.post(f"/staff/cases/{case.id}/reply", data={"result": "mediated", "text": "已调解退款。"})
    client.post("/logout")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    page = client.get("/staff/businesses").get_data(as_text=True)
    assert "好日子大药房" in page and "<td>2</td>" in page


def test_routing_predict_and_eval_commands(app):
    cases = TWO_CASES
    runner = app.test_cli_runner()
    out = runner.invoke(args=["routing", "predict", str(cases)]).output.strip().splitlines()
    lines = [json.loads(line) for line in out]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["township"] == "330324009" and lines[0]["lead_department"] == "market"
    assert lines[1]["triage"] is True and set(lines[0]) >= {"village", "co_handlers", "confidence", "reasons"}
    report = runner.invoke(args=["routing", "eval", str(cases)]).output
    assert "precision 100.0%" in report and "triage recall 100.0%" in report
