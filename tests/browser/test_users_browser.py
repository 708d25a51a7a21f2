"""In the browser: an administrator adds a department's user with a mobile; the next dispatch texts them."""

import sqlalchemy as sa

from intake.accounts.models import Role, User
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from tests.intake.test_api import PHARMACY


def test_administrator_adds_a_department_user_who_is_texted_when_a_case_is_dispatched(
    client, run_jobs, make_user, page, live_server, browser_login
):
    browser_login(make_user("admin", role=Role.ADMIN, county=None, kind=None))
    page.goto(f"{live_server}/admin/users")
    page.click("#new-user")
    page.fill("#username", "zhao-market")
    page.fill("#password", "zhao-pass-1")
    page.fill("#display_name", "赵敏")
    page.select_option("#role", "department")
    page.click("#save-user")  # no department yet: refused, in Chinese
    assert "部门承办人必须选择所属部门" in page.inner_text("#department_id-errors")
    page.fill("#password", "zhao-pass-1")  # a refused form does not send the password back
    page.select_option("#department_id", label="永嘉县 · 永嘉县市场监督管理局")
    page.fill("#phone", "139 0577 1234")
    page.click("#save-user")
    assert "已创建用户 zhao-market" in page.inner_text(".flash")
    row = page.locator("#users tr", has_text="zhao-market")
    assert "+8613905771234" in row.inner_text() and "从未登录" in row.inner_text()

    db.session.expire_all()
    user = db.session.scalar(sa.select(User).filter_by(username="zhao-market"))
    assert user.department.name == "永嘉县市场监督管理局" and user.on_duty and user.active

    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.status is CaseStatus.DISPATCHED and case.lead_department.name == "永嘉县市场监督管理局"

    page.goto(f"{live_server}/admin/messages?recipient=13905771234")
    sms = page.locator("#messages tbody tr", has_text="case_dispatched")
    assert sms.count() == 1
    text = sms.inner_text()
    assert "+86139****1234" in text and case.tracking_no in text and "已发送" in text
    assert "+8613905771234" not in text  # the number is masked until asked for
    page.screenshot(path="/tmp/users-sms.png", full_page=True)
    sms.get_by_role("button", name="显示号码").click()
    assert "+8613905771234" in page.locator("#recipient").inner_text()
