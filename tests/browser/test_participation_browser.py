"""In the browser: 瓯北街道 records a site visit on a case routed there; the lead department reads it."""

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case
from intake.extensions import db
from intake.staff.services import local_today
from tests.factories import OUBEI
from tests.intake.test_api import PHARMACY


def test_township_records_a_site_visit_and_the_lead_department_sees_it(
    client, run_jobs, make_user, page, live_server, browser_login
):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.township_code == OUBEI and case.lead_department.name == "永嘉县市场监督管理局"

    browser_login(make_user("oubei", role=Role.TOWNSHIP, kind=None, township=OUBEI))
    page.goto(f"{live_server}/staff/cases/{case.id}")
    page.fill("#visited_on", local_today().isoformat())
    page.fill("#findings", "到店核查：柜台有过期感冒药两盒，已责令下架并封存。")
    page.click("#record-site-visit")
    assert "已登记现场核查情况" in page.inner_text(".flash")

    page.context.clear_cookies()
    browser_login(make_user("yj-market"))
    page.goto(f"{live_server}/staff/cases/{case.id}")
    notes = page.inner_text("#participation")
    assert "协办意见" in notes and "过期感冒药两盒" in notes and "oubei" in notes
    assert local_today().isoformat() in notes
    # above the reply form the lead department fills in once it has signed
    page.click("#sign")
    box = page.locator("#participation").bounding_box()
    assert box["y"] < page.locator("#reply").bounding_box()["y"]
