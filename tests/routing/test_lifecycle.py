"""Each move of a case starts and stops the clocks RULES.md gives it; staff see and feel the limits."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.clocks import extend_clock, start_clock
from intake.cases.models import Case, CaseEvent, CaseStatus, Extension, ExtensionStatus
from intake.extensions import db
from intake.types import utcnow
from notify.backends import MemoryBackend
from routing.calendar import TZ, WorkCalendar
from routing.sweeps import sweep_clocks
from tests.factories import CaseFactory
from tests.intake.test_api import PHARMACY

TIP = {**PHARMACY, "kind": "tip", "description": "这家药店长期销售过期药品，柜台里有很多过期的感冒药。"}
URGENT = {**PHARMACY, "urgent": True, "description": "药店卖的药吃了以后全家腹泻，店里还在卖同一批药。"}


def routed(client, run_jobs, payload=PHARMACY) -> Case:
    assert client.post("/api/v1/cases", json=payload).status_code == 201
    run_jobs()
    return db.session.scalar(sa.select(Case).order_by(Case.id.desc()))


def clocks(case_id: int) -> dict[str, list]:
    db.session.expire_all()
    out: dict[str, list] = {}
    for c in db.session.get(Case, case_id).clocks:
        out.setdefault(c.name, []).append(c)
    return out


def sms_to(phone: str) -> list[str]:
    return [body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone]


def test_a_complaint_runs_sign_decision_resolve_callback_and_rework(client, run_jobs, make_user, login):
    case = routed(client, run_jobs)
    case_id, received = case.id, case.received_at
    running = clocks(case_id)
    assert set(running) == {"sign", "return", "decision"}
    calendar = WorkCalendar()
    assert running["decision"][0].started_at == received
    assert running["decision"][0].due_at == calendar.add_working_days(received, 7)
    assert running["return"][0].due_at == calendar.add_working_days(received, 2)

    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case_id}/sign")
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert 'id="accept"' in page and "受理/立案决定期限" in page

    # Mediation results need acceptance first
    client.post(f"/staff/cases/{case_id}/reply", data={"result": "mediated", "text": "已调解。"})
    assert db.session.get(Case, case_id).status is CaseStatus.SIGNED

    client.post(f"/staff/cases/{case_id}/accept")
    running = clocks(case_id)
    assert running["decision"][0].met is True
    resolve = running["resolve"][0]
    assert resolve.due_at == calendar.add_calendar_days(resolve.started_at, 60)
    assert resolve.department_id is not None

    client.post(f"/staff/cases/{case_id}/reply", data={"result": "mediated", "text": "已调解，店家退款。"})
    running = clocks(case_id)
    assert running["resolve"][0].met is True and running["callback"][0].stopped_at is None

    client.post("/logout")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    client.post(f"/staff/cases/{case_id}/reopen", data={"reason": "投诉人不满意，退款未到账。"})
    running = clocks(case_id)
    assert db.session.get(Case, case_id).status is CaseStatus.REOPENED
    assert running["callback"][0].stopped_at is not None
    rework = running["rework"][0]
    assert rework.stopped_at is None and rework.due_at == calendar.add_working_days(rework.started_at, 5)

    run_jobs()
    texts = sms_to("+8613812345678")
    assert any("已受理" in t for t in texts) and any("已办结" in t and "调解达成协议" in t for t in texts)


def test_a_tip_decides_in_fifteen_working_days_and_has_no_separate_resolve_clock(client, run_jobs):
    case = routed(client, run_jobs, TIP)
    running = clocks(case.id)
    assert "resolve" not in running
    assert running["decision"][0].due_at == WorkCalendar().add_working_days(case.received_at, 15)


def test_an_urgent_case_must_be_signed_within_two_hours(client, run_jobs):
    case = routed(client, run_jobs, URGENT)
    sign = clocks(case.id)["sign"][0]
    assert sign.due_at - sign.started_at == timedelta(hours=2)


def test_tip_fifteen_plus_fifteen_working_days_over_national_day():
    tip = CaseFactory(received_at=datetime(2026, 9, 21, 10, 0, tzinfo=TZ), tip=True)
    clock = start_clock(tip, "decision", tip.received_at)
    # 15 working days after 2026-09-21, Mid-Autumn (25 Sep) and National Day (1–7 Oct) off, the
    # make-up Saturday 10 Oct worked: 22–24, 28–30 Sep (6), 8–10 Oct (3), 12–16 Oct (5), 19 Oct
    assert clock.due_at.date() == date(2026, 10, 19)
    new_due = extend_clock(clock, 15, "working_days", now=datetime(2026, 10, 1, tzinfo=TZ))
    assert new_due.date() == date(2026, 11, 9)


def test_sixty_calendar_days_of_mediation_ending_on_a_holiday_move_to_the_next_working_day():
    complaint = CaseFactory(received_at=datetime(2026, 8, 2, 15, 0, tzinfo=TZ))
    clock = start_clock(complaint, "resolve", complaint.received_at)
    # 2026-08-02 + 60 days = 2026-10-01, National Day; the holiday runs to 10-07 and 10-08 is a working day
    assert clock.due_at.date() == date(2026, 10, 8)


def test_extension_asked_approved_and_the_complainant_told_the_new_date(client, run_jobs, make_user, login):
    case = routed(client, run_jobs, TIP)
    case_id, old_due = case.id, clocks(case.id)["decision"][0].due_at
    dept = make_user("yj-market")
    login(dept)
    client.post(f"/staff/cases/{case_id}/sign")
    page = client.post(
        f"/staff/cases/{case_id}/extension", data={"reason": "需要抽检送检，检验报告尚未出具。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "等待督办人员审批" in page
    ext = db.session.scalar(sa.select(Extension))
    ext_id = ext.id
    # a department cannot approve its own request
    client.post(f"/staff/extensions/{ext_id}", data={"decision": "approve"})
    assert db.session.get(Extension, ext_id).status is ExtensionStatus.PENDING

    client.post("/logout")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    overdue = client.get("/staff/overdue").get_data(as_text=True)
    assert "需要抽检送检" in overdue
    client.post(f"/staff/extensions/{ext_id}", data={"decision": "approve", "note": "同意"})
    decision = clocks(case_id)["decision"][0]
    assert decision.due_at == WorkCalendar().add_working_days(old_due, 15)
    events = db.session.scalars(sa.select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
    assert "extension_requested" in events and "extension_approved" in events
    local = decision.due_at.astimezone(TZ)

    # once only
    client.post("/logout")
    login(dept)
    page = client.post(
        f"/staff/cases/{case_id}/extension", data={"reason": "还需要时间。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已经延长过一次" in page
    assert db.session.scalar(sa.select(sa.func.count(Extension.id))) == 1

    run_jobs()
    assert any(f"{local.year}年{local.month}月{local.day}日" in t for t in sms_to("+8613812345678"))


def test_an_extension_cannot_be_asked_after_the_deadline_and_a_refusal_says_why(client, run_jobs, make_user, login):
    case = routed(client, run_jobs, TIP)
    case_id = case.id
    dept = make_user("yj-market")
    login(dept)
    client.post(f"/staff/cases/{case_id}/sign")
    client.post(f"/staff/cases/{case_id}/extension", data={"reason": "需要送检。"})
    client.post("/logout")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    ext_id = db.session.scalar(sa.select(Extension.id))
    page = client.post(
        f"/staff/extensions/{ext_id}", data={"decision": "refuse", "note": ""}, follow_redirects=True
    ).get_data(as_text=True)
    assert "须写明理由" in page
    client.post(f"/staff/extensions/{ext_id}", data={"decision": "refuse", "note": "案情简单，无需延期。"})
    assert db.session.get(Extension, ext_id).status is ExtensionStatus.REFUSED

    decision = clocks(case_id)["decision"][0]
    decision.due_at = utcnow() - timedelta(minutes=1)  # time has run out
    db.session.commit()
    client.post("/logout")
    login(dept)
    page = client.post(
        f"/staff/cases/{case_id}/extension", data={"reason": "需要送检。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "期限已过" in page


def test_the_return_window_closes_after_two_working_days_without_warnings(client, run_jobs, make_user, login):
    case = routed(client, run_jobs)
    case_id = case.id
    login(make_user("yj-market"))
    assert 'id="return"' in client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    window = clocks(case_id)["return"][0]
    window.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert 'id="return"' not in page
    page = client.post(
        f"/staff/cases/{case_id}/return", data={"reason": "不是药店，是诊所。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已超过退单期限" in page
    result = sweep_clocks(now=utcnow())
    assert result["windows_closed"] == 1 and result["red"] == 0
    assert clocks(case_id)["return"][0].met is True


def test_a_case_returned_three_times_is_escalated_as_a_problem_case(client, run_jobs, make_user, login):
    case = routed(client, run_jobs)
    case_id = case.id
    dept, dispatcher = make_user("yj-market"), make_user("paidan", role=Role.DISPATCHER, kind=None)
    for n in range(3):
        login(dept)
        client.post(f"/staff/cases/{case_id}/return", data={"reason": f"第{n + 1}次：不属于本部门。"})
        client.post("/logout")
        assert db.session.get(Case, case_id).status is CaseStatus.TRIAGE
        if n < 2:
            login(dispatcher)
            client.post(
                f"/dispatch/cases/{case_id}/route",
                data={"township": "330324009", "industry": "pharmacy", "lead_kind": ""},
            )
            client.post("/logout")
            assert db.session.get(Case, case_id).status is CaseStatus.DISPATCHED
            assert db.session.get(Case, case_id).problem_at is None
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.problem_at is not None and case.escalated_at is not None
    assert [e.action for e in case.events].count("problem_case") == 1
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    page = client.get("/staff/overdue").get_data(as_text=True)
    assert "问题件" in page and case.tracking_no in page
