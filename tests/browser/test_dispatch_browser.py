"""In the browser: a dispatcher routes a triage case by hand; a duplicate is merged; a business file."""

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from tests.intake.test_api import PHARMACY
from tests.intake.test_dispatch import VAGUE


def test_dispatcher_routes_a_triage_case_by_typing_pinyin(
    client, run_jobs, make_user, page, live_server, browser_login
):
    client.post("/api/v1/cases", json=VAGUE)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    browser_login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    page.goto(f"{live_server}/dispatch/")
    page.click(f"text={case.tracking_no}")
    page.wait_for_selector("#dispatch-form")
    page.select_option("#industry", "pharmacy")
    page.fill("#township", "")
    page.keyboard.type("obj")
    first = page.locator("#township-options li[aria-selected=true]")
    assert first.inner_text().startswith("瓯北街道") and "永嘉县" in first.inner_text()
    page.keyboard.press("Enter")  # picks, does not submit yet
    assert page.input_value("#township") == "瓯北街道" and page.input_value("#township_code") == "330324009"
    page.click("#dispatch")
    assert "已派单给 永嘉县市场监督管理局" in page.inner_text(".flash")
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.DISPATCHED and case.events[-1].actor_label == "wangfang"
    assert case.township_code == "330324009"


def test_department_merges_a_duplicate_and_opens_the_business_file(
    client, run_jobs, make_user, page, live_server, browser_login
):
    client.post("/api/v1/cases", json=PHARMACY)
    client.post(
        "/api/v1/cases",
        json={
            **PHARMACY,
            "complainant": {"name": "王红", "phone": "13900001111"},
            "description": "这家药店卖的感冒药过期两个月了，店员还不肯退换。",
        },
    )
    run_jobs()
    dup = db.session.scalar(sa.select(Case).where(Case.duplicate_of_id.is_not(None)))
    browser_login(make_user("yj-market"))
    page.goto(f"{live_server}/staff/cases/{dup.id}")
    assert "疑似重复件" in page.inner_text("#duplicate")
    page.click("#merge")
    assert "已并入" in page.inner_text(".flash")
    page.click("#business-link")
    assert page.locator("#business-cases tbody tr").count() == 2
    page.screenshot(path="/tmp/business-file.png", full_page=True)
