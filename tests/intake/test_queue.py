"""Department staff work their queue in the browser: sign, accept, reply; see only their cases."""

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.callbacks.models import Callback
from intake.callbacks.services import answer_by_sms
from intake.callbacks.tasks import sweep_callbacks
from intake.cases.models import Case, CaseStatus, PersonalDataAccess
from intake.extensions import db
from tests.intake.test_api import PHARMACY


def file_and_route(client, run_jobs, payload=PHARMACY) -> Case:
    client.post("/api/v1/cases", json=payload)
    run_jobs()
    return db.session.scalar(sa.select(Case).order_by(Case.id.desc()))


def test_department_signs_accepts_and_replies_and_the_callback_closes(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-market"))
    queue = client.get("/staff/").get_data(as_text=True)
    assert case.tracking_no in queue

    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "好日子大药房" in page and 'id="sign"' in page and "分派依据" in page

    client.post(f"/staff/cases/{case.id}/sign", follow_redirects=True)
    client.post(f"/staff/cases/{case.id}/accept")
    page = client.post(
        f"/staff/cases/{case.id}/reply",
        data={"result": "mediated", "text": "已调解，店家同意退款。"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已办结答复" in page and 'id="close"' not in page  # the callback closes it, not the department
    case_id = case.id
    callback = db.session.scalar(sa.select(Callback))
    sweep_callbacks(now=callback.ask_at)
    assert answer_by_sms("+8613812345678", "1") is not None

    case = db.session.get(Case, case_id)
    assert case.status is CaseStatus.CLOSED and case.result == "mediated"
    assert [e.action for e in case.events] == ["receive", "route", "sign", "accept", "reply", "callback_asked", "close"]
    assert case.events[2].actor_label == "yj-market"
    clocks = {c.name: c for c in case.clocks}
    assert clocks["sign"].met is True and clocks["decision"].met is True and clocks["resolve"].met is True
    assert all(c.stopped_at is not None for c in case.clocks)


def test_other_departments_do_not_see_the_case(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-culture", kind="culture"))
    assert case.tracking_no not in client.get("/staff/").get_data(as_text=True)
    assert client.get(f"/staff/cases/{case.id}").status_code == 404
    assert client.post(f"/staff/cases/{case.id}/sign").status_code == 404
    assert db.session.get(Case, case.id).status is CaseStatus.DISPATCHED


def test_a_step_out_of_order_is_refused_with_a_message(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-market"))
    page = client.post(
        f"/staff/cases/{case.id}/reply", data={"result": "refused", "text": "不属于受理范围。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "不能对这件案件执行此操作" in page
    assert db.session.get(Case, case.id).status is CaseStatus.DISPATCHED


def test_return_needs_a_reason_and_sends_the_case_to_triage(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-market"))
    page = client.post(f"/staff/cases/{case.id}/return", data={"reason": ""}, follow_redirects=True)
    assert "退单必须写明理由" in page.get_data(as_text=True)
    client.post(f"/staff/cases/{case.id}/return", data={"reason": "该店实际在桥头镇，且为诊所"})
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.TRIAGE and case.lead_department_id is None
    assert case.events[-1].reason == "该店实际在桥头镇，且为诊所"


def test_complainant_identity_is_shown_to_the_lead_department_and_the_look_is_logged(
    client, run_jobs, make_user, login
):
    case = file_and_route(client, run_jobs)
    user = make_user("yj-market")
    login(user)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "李明" in page and "+8613812345678" in page
    logged = db.session.scalars(sa.select(PersonalDataAccess)).all()
    assert [(a.user_id, a.case_id) for a in logged] == [(user.id, case.id)]


def test_a_named_tippers_identity_stays_hidden_without_consent(client, run_jobs, make_user, login):
    tip = {**PHARMACY, "kind": "tip", "description": "这家药店卖处方药不要处方，还卖过期药。"}
    case = file_and_route(client, run_jobs, tip)
    login(make_user("yj-market"))
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "李明" not in page and "13812345678" not in page and "身份保密" in page
    assert db.session.scalar(sa.select(sa.func.count(PersonalDataAccess.id))) == 0


def test_township_staff_see_cases_on_their_ground_only(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("oubei", role=Role.TOWNSHIP, kind=None, township="330324009"))
    assert case.tracking_no in client.get("/staff/").get_data(as_text=True)
    client.post("/logout")
    login(make_user("qiaotou", role=Role.TOWNSHIP, kind=None, township="330324102"))
    assert case.tracking_no not in client.get("/staff/").get_data(as_text=True)


def test_queue_needs_login(client):
    resp = client.get("/staff/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_department_and_township_on_duty_hear_of_a_new_case(client, run_jobs, make_user):
    from notify.backends import MemoryBackend

    staff = make_user("yj-market")
    staff.phone = "+8613800000001"
    township = make_user("oubei", role=Role.TOWNSHIP, kind=None, township="330324009")
    township.email = "oubei@example.test"
    other = make_user("yj-culture", kind="culture")
    other.phone = "+8613800000009"
    db.session.commit()
    MemoryBackend.sent.clear()
    case = file_and_route(client, run_jobs)
    told = {(channel, to): body for channel, to, body in MemoryBackend.sent if "新案件" in body}
    assert set(told) == {("sms", "+8613800000001"), ("mail", "oubei@example.test")}
    assert case.tracking_no in told[("sms", "+8613800000001")]
