"""回访: the survey goes out the working day after a reply; answers close, reopen or time out."""

from datetime import timedelta

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.callbacks.models import Answer, Callback, Review
from intake.callbacks.services import answer_by_sms
from intake.callbacks.tasks import sweep_callbacks
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from notify.backends import MemoryBackend
from routing.calendar import TZ, WorkCalendar
from tests.intake.test_api import PHARMACY

PHONE = "+8613812345678"


def replied_case(client, run_jobs, make_user, login) -> int:
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case_id = db.session.scalar(sa.select(Case.id))
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case_id}/sign")
    client.post(f"/staff/cases/{case_id}/accept")
    client.post(f"/staff/cases/{case_id}/reply", data={"result": "mediated", "text": "已调解，店家退款。"})
    client.post("/logout")
    return case_id


def status(case_id: int) -> CaseStatus:
    db.session.expire_all()
    return db.session.get(Case, case_id).status


def test_the_survey_goes_out_at_nine_on_the_next_working_day_and_not_twice(client, run_jobs, make_user, login):
    case_id = replied_case(client, run_jobs, make_user, login)
    callback = db.session.scalar(sa.select(Callback))
    replied_at = db.session.get(Case, case_id).events[-1].at
    expected_day = WorkCalendar().next_working_day(replied_at.astimezone(TZ).date() + timedelta(days=1))
    ask_at = callback.ask_at.astimezone(TZ)
    assert ask_at.date() == expected_day and (ask_at.hour, ask_at.minute) == (9, 0)

    ask = callback.ask_at
    assert sweep_callbacks(now=ask - timedelta(minutes=1))["asked"] == 0
    assert sweep_callbacks(now=ask)["asked"] == 1
    assert sweep_callbacks(now=ask + timedelta(minutes=5))["asked"] == 0
    MemoryBackend.sent.clear()
    run_jobs()
    surveys = [body for _, to, body in MemoryBackend.sent if to == PHONE and "1满意" in body]
    assert len(surveys) == 1
    assert answer_by_sms("+8613900000000", "1") is None  # someone else's number has no survey


def test_dissatisfied_goes_to_the_supervisor_who_reopens_it_and_the_rework_clock_runs(
    client, run_jobs, make_user, login
):
    case_id = replied_case(client, run_jobs, make_user, login)
    callback = db.session.scalar(sa.select(Callback))
    sweep_callbacks(now=callback.ask_at)
    assert answer_by_sms(PHONE, "3").answer is Answer.DISSATISFIED
    assert status(case_id) is CaseStatus.REPLIED

    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    page = client.get("/staff/callbacks").get_data(as_text=True)
    assert db.session.get(Case, case_id).tracking_no in page
    callback_id = db.session.scalar(sa.select(Callback.id))
    client.post(f"/staff/callbacks/{callback_id}", data={"decision": "reopen", "reason": "退款未到账，请重新处理。"})
    assert status(case_id) is CaseStatus.REOPENED
    case = db.session.get(Case, case_id)
    assert case.running_clock("rework") is not None
    assert db.session.get(Callback, callback_id).review is Review.REOPENED
    assert "没有待审核" in client.get("/staff/callbacks").get_data(as_text=True)


def test_no_answer_in_three_working_days_closes_as_no_response(client, run_jobs, make_user, login):
    case_id = replied_case(client, run_jobs, make_user, login)
    callback = db.session.scalar(sa.select(Callback))
    sweep_callbacks(now=callback.ask_at)
    callback = db.session.scalar(sa.select(Callback))
    due = callback.answer_due_at
    assert due == WorkCalendar().add_working_days(callback.ask_at, 3)
    assert sweep_callbacks(now=due - timedelta(seconds=1))["no_response"] == 0
    assert sweep_callbacks(now=due)["no_response"] == 1
    assert status(case_id) is CaseStatus.CLOSED
    assert db.session.scalar(sa.select(Callback.answer)) is Answer.NO_RESPONSE
    assert answer_by_sms(PHONE, "1") is None  # too late


def test_an_operator_records_a_phone_callback_and_the_case_closes(client, run_jobs, make_user, login):
    case_id = replied_case(client, run_jobs, make_user, login)
    login(make_user("lijing", role=Role.OPERATOR, county="330324", kind=None))
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert 'id="record-callback"' in page
    client.post(f"/staff/cases/{case_id}/callback", data={"answer": "basic", "note": "基本满意，希望加强监管。"})
    assert status(case_id) is CaseStatus.CLOSED
    callback = db.session.scalar(sa.select(Callback))
    assert callback.channel == "phone" and callback.answer is Answer.BASIC
    # the survey is no longer sent once the callback was made by phone
    assert sweep_callbacks(now=callback.ask_at)["asked"] == 0


def test_a_department_cannot_record_a_callback_or_review(client, run_jobs, make_user, login):
    case_id = replied_case(client, run_jobs, make_user, login)
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case_id}/callback", data={"answer": "satisfied"})
    assert status(case_id) is CaseStatus.REPLIED
    assert client.get("/staff/callbacks").status_code == 403


def test_the_satisfaction_loop_end_to_end_by_sms(app, client, run_jobs, make_user, login, monkeypatch):
    """reply → survey SMS → the complainant answers 3 → the supervisor reopens → rework clock running."""
    from tests.intake.test_sms import SECRET, sms, texts_to

    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", SECRET)
    case_id = replied_case(client, run_jobs, make_user, login)
    ask_at = db.session.scalar(sa.select(Callback.ask_at))
    sweep_callbacks(now=ask_at)
    MemoryBackend.sent.clear()
    run_jobs()
    assert any("1满意" in t for t in texts_to(PHONE))

    assert sms(client, "3") == "survey"
    assert db.session.scalar(sa.select(Callback.review)) is Review.PENDING
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    callback_id = db.session.scalar(sa.select(Callback.id))
    client.post(f"/staff/callbacks/{callback_id}", data={"decision": "reopen", "reason": "投诉人不满意，请重新调解。"})
    assert status(case_id) is CaseStatus.REOPENED
    rework = db.session.get(Case, case_id).running_clock("rework")
    assert rework is not None and rework.due_at == WorkCalendar().add_working_days(rework.started_at, 5)


def test_a_web_filer_gets_the_number_and_code_by_sms_and_the_code_is_not_stored(client, run_jobs):
    from notify.models import Message

    resp = client.post("/api/v1/cases", json=PHARMACY).get_json()
    MemoryBackend.sent.clear()
    run_jobs()
    receipts = [body for _, to, body in MemoryBackend.sent if to == PHONE and resp["tracking_no"] in body]
    assert len(receipts) == 1 and resp["lookup_code"] in receipts[0]
    stored = db.session.scalar(sa.select(Message.body).where(Message.template == "web_receipt"))
    assert resp["lookup_code"] not in stored and "******" in stored


def test_a_refused_complaint_is_told_why_by_sms(client, run_jobs, make_user, login):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case_id = db.session.scalar(sa.select(Case.id))
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case_id}/sign")
    client.post(
        f"/staff/cases/{case_id}/reply",
        data={"result": "refused", "text": "所购药品未过期，经核查不属实，不予受理。可向人民法院起诉。"},
    )
    MemoryBackend.sent.clear()
    run_jobs()
    told = [body for _, to, body in MemoryBackend.sent if to == PHONE]
    assert len(told) == 1 and "不予受理" in told[0] and "可向人民法院起诉" in told[0]
