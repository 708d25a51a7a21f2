"""In the browser: an operator takes an announced call, finds the township by pinyin, files, reads back."""

import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus, Channel
from intake.extensions import db
from intake.hotline.services import readable
from tests.intake.test_api import PHARMACY

CALL = {"call_id": "pbx-7001", "caller": "13812345678", "line": "12315-3", "started_at": "2026-05-06T09:30:00+08:00"}


def test_operator_takes_a_call_finds_the_township_by_pinyin_and_files(
    app, client, make_user, page, live_server, browser_login, run_jobs
):
    earlier = client.post("/api/v1/cases", json=PHARMACY).get_json()["tracking_no"]
    browser_login(make_user("lijing", role=Role.OPERATOR, county=None, kind=None))
    page.goto(f"{live_server}/hotline/")
    assert "110" in page.inner_text("#emergency") and page.is_hidden("#case-form")

    resp = client.post("/hotline/calls", json=CALL, headers={"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"})
    assert resp.status_code == 201
    page.wait_for_selector("#ringing li:has-text('138 1234 5678')")  # no reload: the feed brought it
    page.keyboard.press("Alt+n")
    page.wait_for_selector("#case-form", state="visible")
    assert page.input_value("#complainant_phone") == "138 1234 5678"
    assert earlier in page.inner_text("#earlier")

    page.keyboard.press("Space")  # the first kind, 投诉, has the focus
    page.keyboard.press("Alt+t")
    page.keyboard.type("obj")
    first = page.locator("#township-options li[aria-selected=true]")
    assert first.inner_text().startswith("瓯北街道")
    page.screenshot(path="/tmp/hotline-call.png", full_page=True)
    page.keyboard.press("Enter")
    assert page.input_value("#township") == "瓯北街道" and page.input_value("#township_code") == "330324009"
    page.keyboard.press("Alt+i")
    page.select_option("#industry", "pharmacy")
    page.keyboard.press("Alt+m")
    page.keyboard.type("买的感冒药过期两个月了，店员不肯退换。")
    page.fill("#complainant_name", "李明")
    page.keyboard.press("Enter")

    page.wait_for_selector("#receipt")
    tracking_no = page.get_attribute("#tracking-no", "data-value")
    assert page.locator("#tracking-no > span").all_inner_texts() == readable(tracking_no)
    assert len(page.get_attribute("#lookup-code", "data-value")) == 6
    assert "138 1234 5678" in page.inner_text("#sms-note")
    page.screenshot(path="/tmp/hotline-receipt.png", full_page=True)

    run_jobs()
    case = db.session.scalar(sa.select(Case).filter_by(tracking_no=tracking_no))
    assert case.channel is Channel.HOTLINE and case.status is CaseStatus.DISPATCHED
    assert case.township_code == "330324009" and case.industry_code == "pharmacy"
