"""An unsigned case turns amber, then red; the supervisor sees it; nobody is told twice."""

from datetime import timedelta

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseEvent
from intake.extensions import db
from notify.backends import MemoryBackend
from notify.models import Message
from routing.sweeps import sweep_clocks
from tests.intake.test_api import PHARMACY


def levels(now) -> dict[str, int]:
    """The clocks one sweep warned (amber) and escalated (red)."""
    result = sweep_clocks(now=now)
    return {"amber": result["amber"], "red": result["red"]}


def dispatched_case(client, run_jobs) -> Case:
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    return db.session.scalar(sa.select(Case))


def test_unsigned_case_turns_amber_then_red_and_each_is_told_once(client, run_jobs, make_user, login):
    staff = make_user("yj-market")
    staff.phone = "+8613800000001"
    township = make_user("oubei", role=Role.TOWNSHIP, kind=None, township="330324009")
    township.email = "oubei@example.test"
    db.session.commit()
    case = dispatched_case(client, run_jobs)
    tracking_no, sign = case.tracking_no, case.running_clock("sign")
    amber_at, due_at = sign.amber_at, sign.due_at
    assert sign.started_at < amber_at < due_at

    assert levels(amber_at - timedelta(seconds=1)) == {"amber": 0, "red": 0}
    assert levels(amber_at + timedelta(seconds=1)) == {"amber": 1, "red": 0}
    assert levels(amber_at + timedelta(seconds=2)) == {"amber": 0, "red": 0}
    assert levels(due_at + timedelta(seconds=1)) == {"amber": 0, "red": 1}
    assert levels(due_at + timedelta(hours=5)) == {"amber": 0, "red": 0}

    actions = db.session.scalars(sa.select(CaseEvent.action).order_by(CaseEvent.id)).all()
    assert actions.count("warn_amber") == 1 and actions.count("escalate") == 1
    MemoryBackend.sent.clear()
    run_jobs()
    recipients = sorted((channel, to) for channel, to, _ in MemoryBackend.sent)
    assert recipients == [
        ("mail", "oubei@example.test"),
        ("mail", "oubei@example.test"),
        ("sms", "+8613800000001"),
        ("sms", "+8613800000001"),
    ]
    assert any("超期" in body for *_, body in MemoryBackend.sent)
    warnings = sa.select(sa.func.count(Message.id)).where(Message.template.in_(["clock_amber", "clock_red"]))
    assert db.session.scalar(warnings) == 4

    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    page = client.get("/staff/overdue").get_data(as_text=True)
    assert tracking_no in page and "超期" in page and "永嘉县市场监督管理局" in page


def test_a_sweep_after_an_outage_escalates_without_a_late_amber(client, run_jobs):
    case = dispatched_case(client, run_jobs)
    due_at = case.running_clock("sign").due_at
    assert levels(due_at + timedelta(days=3)) == {"amber": 0, "red": 1}
    actions = db.session.scalars(sa.select(CaseEvent.action)).all()
    assert "escalate" in actions and "warn_amber" not in actions


def test_a_signed_case_is_not_warned(client, run_jobs, make_user, login):
    case = dispatched_case(client, run_jobs)
    due_at = case.running_clock("sign").due_at
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case.id}/sign")
    assert levels(due_at + timedelta(days=1)) == {"amber": 0, "red": 0}


def test_overdue_page_is_for_supervisors(client, make_user, login):
    login(make_user("yj-market"))
    assert client.get("/staff/overdue").status_code == 403


def test_a_case_left_in_triage_is_chased_with_the_dispatchers_not_a_department(client, run_jobs, make_user):
    from tests.intake.test_dispatch import VAGUE

    dispatcher = make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None)
    dispatcher.phone = "+8613800000002"
    department = make_user("yj-market")
    department.phone = "+8613800000001"
    db.session.commit()
    client.post("/api/v1/cases", json=VAGUE)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    due_at = case.running_clock("triage").due_at
    assert levels(due_at + timedelta(seconds=1))["red"] == 1
    MemoryBackend.sent.clear()
    run_jobs()
    assert [to for _, to, _ in MemoryBackend.sent] == ["+8613800000002"]


def test_the_supervisors_counts_follow_the_sweep(app, client, run_jobs, make_user, login):
    case = dispatched_case(client, run_jobs)
    due_at = case.running_clock("sign").due_at
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    before = client.get("/staff/overdue").get_data(as_text=True)  # caches the (empty) summary
    assert "永嘉县市场监督管理局</a></td><td>1</td>" not in before
    levels(due_at + timedelta(seconds=1))
    with app.app_context():  # a fresh request context: the sweep's job closed the test's session
        after = client.get("/staff/overdue").get_data(as_text=True)
    assert "永嘉县市场监督管理局</a></td><td>1</td>" in after
