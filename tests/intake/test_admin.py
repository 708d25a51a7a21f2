"""The administrator's pages: warnings, time limits that apply from now on, the holiday calendar."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.clocks import find_policy, start_clock
from intake.extensions import db
from intake.reference.models import CalendarDay, TimeLimitPolicy, TimeUnit
from intake.reference.seed import POLICY_EPOCH
from intake.types import utcnow
from routing.calendar import TZ
from tests.factories import CaseFactory, ClockFactory


@pytest.fixture(autouse=True)
def _restore_reference_data():
    """Policies and calendar days outlive the per-test cleanup: put them back as seeded."""
    yield
    db.session.rollback()
    db.session.execute(sa.delete(TimeLimitPolicy).where(TimeLimitPolicy.effective_from > POLICY_EPOCH))
    db.session.execute(sa.delete(CalendarDay))
    db.session.commit()


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", Role.ADMIN, kind=None)
    login(user)
    return user


def tip_decision_policy() -> TimeLimitPolicy:
    return db.session.scalar(
        sa.select(TimeLimitPolicy).filter_by(
            jurisdiction="*", case_kind="tip", urgent=False, clock="decision", effective_from=POLICY_EPOCH
        )
    )


def policy_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TimeLimitPolicy))


def edit(client, policy, **data):
    return client.post(
        f"/admin/policies/{policy.id}",
        data={f"policy-{policy.id}-{k}": v for k, v in data.items()},
        follow_redirects=True,
    )


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.DISPATCHER, Role.SUPERVISOR, Role.OPERATOR])
def test_only_administrators_may_use_the_pages(client, make_user, login, role):
    login(make_user("someone", role))
    for path in ("/admin/", "/admin/policies", "/admin/calendar", "/admin/templates", "/admin/messages"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/calendar/import", data={"text": "2030-01-01,0,元旦"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0
    assert "系统管理" not in client.get("/staff/overdue").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/policies")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_administrator_finds_the_pages_from_the_menu(client, admin):
    page = client.get("/admin/").get_data(as_text=True)
    assert "系统管理" in client.get("/staff/overdue").get_data(as_text=True)
    assert "办理时限" in page and "节假日安排" in page and "办理中的案件" in page


def test_policies_read_in_chinese(client, admin):
    page = client.get("/admin/policies").get_data(as_text=True)
    assert "受理/立案决定期限" in page and "举报" in page and "15 工作日" in page
    assert "60 自然日" in page and "2 小时" in page and "紧急件" in page
    assert "可延长期限（一次）" in page and "全部辖区" in page


def test_a_new_tip_decision_limit_applies_to_cases_received_after_the_edit(client, admin):
    policy = tip_decision_policy()
    earlier = CaseFactory(tip=True, received_at=utcnow() - timedelta(hours=1))
    db.session.commit()

    page = edit(client, policy, amount="10", unit="working_days", note="市局2026年通知").get_data(as_text=True)

    assert "新时限自现在起对新受理的案件生效，已受理的案件仍按原时限" in page
    later = CaseFactory(tip=True)
    assert find_policy(earlier, "decision").amount == 15
    assert find_policy(later, "decision").amount == 10
    # Counted from the same moment, across National Day: 10 working days against 15.
    start = datetime(2026, 9, 28, 10, tzinfo=TZ)
    assert start_clock(later, "decision", start).due_at.date() == date(2026, 10, 16)
    assert start_clock(earlier, "decision", start).due_at.date() == date(2026, 10, 23)
    # The earlier row is kept, unchanged, and shown as history.
    assert db.session.get(TimeLimitPolicy, policy.id).amount == 15
    assert "以前的时限（1）" in page and "初始设置" in page and "市局2026年通知" in page


@pytest.mark.parametrize(
    "data, error",
    [
        ({"amount": "0", "unit": "working_days"}, "时限须为 1 到 365 之间的整数。"),
        ({"amount": "400", "unit": "working_days"}, "时限须为 1 到 365 之间的整数。"),
        ({"amount": "十", "unit": "working_days"}, "请填写整数。"),
        ({"amount": "48", "unit": "hours"}, "只有紧急件的时限可以按小时计算"),
    ],
)
def test_a_bad_edit_says_why_in_chinese_and_saves_nothing(client, admin, data, error):
    before = policy_rows()
    page = edit(client, tip_decision_policy(), **data).get_data(as_text=True)
    assert error in page and "未保存" in page
    assert policy_rows() == before


def test_an_urgent_limit_may_be_in_hours(client, admin):
    urgent_sign = db.session.scalar(
        sa.select(TimeLimitPolicy).filter_by(jurisdiction="*", case_kind="*", urgent=True, clock="sign")
    )
    edit(client, urgent_sign, amount="4", unit="hours")
    newest = db.session.scalar(
        sa.select(TimeLimitPolicy).filter_by(clock="sign", urgent=True).order_by(TimeLimitPolicy.effective_from.desc())
    )
    assert (newest.amount, newest.unit) == (4, TimeUnit.HOURS)


def test_a_county_may_get_its_own_limit(client, admin):
    page = client.post(
        "/admin/policies",
        data={
            "jurisdiction": "330324",
            "case_kind": "complaint",
            "clock": "decision",
            "amount": "5",
            "unit": "working_days",
            "note": "永嘉县承诺时限",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "新时限自现在起对新受理的案件生效" in page and "永嘉县" in page
    case = CaseFactory()
    assert find_policy(case, "decision").amount == 5


@pytest.mark.parametrize(
    "data, error",
    [
        (
            {"jurisdiction": "*", "case_kind": "tip", "clock": "resolve", "amount": "5", "unit": "working_days"},
            "只适用于投诉、咨询、建议",
        ),
        (
            {"jurisdiction": "999999", "case_kind": "tip", "clock": "decision", "amount": "5", "unit": "working_days"},
            "没有这个县（市、区）。",
        ),
        (
            {"jurisdiction": "*", "case_kind": "tip", "clock": "decision", "amount": "", "unit": "working_days"},
            "请填写时长。",
        ),
    ],
)
def test_a_bad_new_limit_says_why_and_saves_nothing(client, admin, data, error):
    before = policy_rows()
    response = client.post("/admin/policies", data=data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert policy_rows() == before


def check(client, start, amount, unit="working_days") -> str:
    query = {"start": start, "amount": amount, "unit": unit}
    return client.get("/admin/policies", query_string=query).get_data(as_text=True)


def test_the_deadline_check_computes_as_the_cli_does(app, client, admin):
    assert "2026-10-13 23:59:59" in check(client, "2026-09-28T10:00", 7)
    cli = app.test_cli_runner().invoke(args=["sla", "due", "--start", "2026-09-28T10:00", "--working-days", "7"])
    assert "2026-10-13 23:59:59" in cli.output
    page = check(client, "2030-05-01T09:00", 3)
    assert "2030-05-06 23:59:59" in page and "2030年法定节假日安排未录入" in page
    assert "2026-10-02 01:30:00" in check(client, "2026-10-01T23:30", 2, "hours")
    assert "起算时间应写成 2026-09-28 10:00 这样的格式" in check(client, "yesterday", 3)


def running_clock_due_in_2030() -> None:
    ClockFactory(case=CaseFactory(tip=True), name="decision", due_at=datetime(2030, 5, 6, 23, 59, tzinfo=TZ))
    db.session.commit()


def test_dashboard_warns_of_a_missing_year_until_its_holidays_are_entered(client, admin):
    running_clock_due_in_2030()
    assert "2030年法定节假日安排未录入，期限仅按周末推算" in client.get("/admin/").get_data(as_text=True)
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert "未录入，期限仅按周末推算" in calendar and "系统已内置" in calendar

    page = client.post(
        "/admin/calendar/import",
        data={"text": "day,working,note\n2030-01-01,0,元旦\n2030-02-02,1,春节调休上班\n2030-02-04,0,春节\n"},
        follow_redirects=True,
    )
    assert "已录入 3 天。" in page.get_data(as_text=True)

    assert "2030年" not in client.get("/admin/").get_data(as_text=True)
    assert db.session.get(CalendarDay, date(2030, 2, 2)).working is True
    assert "已录入 3 天" in client.get("/admin/calendar").get_data(as_text=True)


def test_entering_one_day_moves_a_deadline_and_deleting_it_moves_it_back(app, client, admin):
    runner = app.test_cli_runner()
    due = ["sla", "due", "--start", "2026-12-31T09:00", "--working-days", "1"]
    assert "2027-01-01 23:59:59" in runner.invoke(args=due).output
    page = client.post(
        "/admin/calendar/days", data={"day": "2027-01-01", "kind": "holiday", "note": "元旦"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已保存 2027-01-01" in page and "元旦" in page
    assert "2027-01-04 23:59:59" in runner.invoke(args=due).output

    client.post("/admin/calendar/days/2027-01-01/delete", follow_redirects=True)
    assert db.session.get(CalendarDay, date(2027, 1, 1)) is None
    assert "2027-01-01 23:59:59" in runner.invoke(args=due).output


@pytest.mark.parametrize(
    "data, error",
    [
        ({"day": "2027-13-01", "kind": "holiday"}, "日期应写成 2027-02-06 这样的格式"),
        ({"day": "2027-02-03", "kind": "workday"}, "调休上班日应在周末"),
    ],
)
def test_a_bad_day_says_why_and_saves_nothing(client, admin, data, error):
    response = client.post("/admin/calendar/days", data=data)
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0


def test_a_bad_paste_names_the_line_keeps_the_text_and_saves_nothing(client, admin):
    text = "2027-02-06,0,春节\n2027-02-30,0,春节\n2027-02-10,1,调休\n"
    response = client.post("/admin/calendar/import", data={"text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "第 2 行" in page and "2027-02-30" in page and "第 3 行" in page
    assert "2027-02-06,0,春节" in page  # still in the textarea to correct
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0


def test_the_cli_import_rejects_a_bad_file_in_chinese(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("day,working,note\n2027-01-01,maybe,元旦\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["calendar", "import", str(path)])
    assert result.exit_code != 0 and "第 2 行" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0


def test_each_policy_form_carries_its_own_csrf_token(app, client, admin):
    policy = tip_decision_policy()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/admin/policies").get_data(as_text=True)
        name = f"policy-{policy.id}-csrf_token"
        token = page.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]
        assert edit(client, policy, amount="12", unit="working_days").status_code == 400
        page = edit(client, policy, amount="12", unit="working_days", csrf_token=token)
        assert "新时限自现在起对新受理的案件生效" in page.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
