"""In the browser, under the site's Content-Security-Policy: the pages people use work and break no rule."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from tests.browser.conftest import fill_complaint
from tests.intake.test_api import PHARMACY
from tests.intake.test_dispatch import VAGUE

CALL = {"call_id": "pbx-9001", "caller": "13812345678", "line": "12315-1", "started_at": "2026-05-06T09:30:00+08:00"}

# Runs in every page before its own scripts (Playwright injects it past the CSP): each violation is kept.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + location.pathname);
});
"""
BRAND_BLUE = "rgb(11, 92, 173)"  # the header's background in intake/static/site.css


class Watch:
    """What the browser reported: securitypolicyviolation events, CSP console messages, script errors."""

    def __init__(self, page):
        self.page, self.console, self.errors = page, [], []
        page.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations || []") + self.console + self.errors

    def assert_clean(self):
        self.page.wait_for_load_state("load")  # the stylesheets are in, and any violation they caused
        assert self.violations() == []
        # the stylesheet (not an inline <style>) is what styles the page
        assert self.page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == BRAND_BLUE


@pytest.fixture
def watch(page):
    return Watch(page)


def test_the_watch_sees_a_violation(page, live_server, watch):
    """The control: an inline style the CSP forbids is reported, so a clean page means something."""
    page.goto(f"{live_server}/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); }"
    )
    page.wait_for_function("window.__violations.length >= 2")
    assert page.evaluate("window.ran") is None
    assert any("style-src" in v for v in watch.violations()) and any("script-src" in v for v in watch.violations())


def test_citizen_files_sees_the_receipt_and_looks_the_case_up(page, live_server, run_jobs, watch):
    page.goto(f"{live_server}/")
    watch.assert_clean()
    fill_complaint(page)
    page.click("button[type=submit]")
    tracking_no = page.inner_text("#tracking-no").strip()
    code = page.inner_text("#lookup-code").strip()
    watch.assert_clean()

    run_jobs()
    page.click("text=查询进度 >> nth=0")
    page.fill("#tracking_no", tracking_no)
    page.fill("#lookup_code", code)
    page.click("button[type=submit]")
    assert page.inner_text("#case-status") == "已转交承办部门，待签收"
    watch.assert_clean()


def test_clerk_logs_in_opens_the_queue_and_the_case(
    client, run_jobs, make_user, page, live_server, browser_login, watch
):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    browser_login(make_user("yj-market"))
    page.wait_for_url(f"{live_server}/staff/")
    watch.assert_clean()
    page.click(f"text={case.tracking_no}")
    page.wait_for_selector("#sign")
    assert "好日子大药房" in page.inner_text("main")
    watch.assert_clean()
    page.click("#sign")
    assert page.locator(".flash").count() == 1
    watch.assert_clean()


def test_dispatcher_routes_a_triage_case_with_the_place_picker(
    client, run_jobs, make_user, page, live_server, browser_login, watch
):
    client.post("/api/v1/cases", json=VAGUE)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    browser_login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    page.goto(f"{live_server}/dispatch/")
    watch.assert_clean()
    page.click(f"text={case.tracking_no}")
    page.wait_for_selector("#dispatch-form")
    page.select_option("#industry", "pharmacy")
    page.fill("#township", "")
    page.keyboard.type("obj")  # the picker's script (with the page's nonce) searches and lists
    first = page.locator("#township-options li[aria-selected=true]")
    assert first.inner_text().startswith("瓯北街道")
    page.keyboard.press("Enter")
    assert page.input_value("#township_code") == "330324009"
    watch.assert_clean()
    page.click("#dispatch")
    assert "已派单给 永嘉县市场监督管理局" in page.inner_text(".flash")
    db.session.expire_all()
    assert db.session.get(Case, case.id).status is CaseStatus.DISPATCHED
    watch.assert_clean()


def test_operator_console_takes_a_call_and_its_scripts_run(
    app, client, make_user, page, live_server, browser_login, watch
):
    browser_login(make_user("lijing", role=Role.OPERATOR, county=None, kind=None))
    page.goto(f"{live_server}/hotline/")
    watch.assert_clean()
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "1280px"  # console.css
    token = app.config["HOTLINE_TOKEN"]
    assert client.post("/hotline/calls", json=CALL, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    page.wait_for_selector("#ringing li:has-text('138 1234 5678')")  # the feed's script polled and drew it
    page.keyboard.press("Alt+n")
    page.wait_for_selector("#case-form", state="visible")
    page.keyboard.press("Alt+t")
    page.keyboard.type("obj")
    assert page.locator("#township-options li[aria-selected=true]").inner_text().startswith("瓯北街道")
    page.keyboard.press("Enter")
    assert page.input_value("#township_code") == "330324009"
    watch.assert_clean()


def test_supervisor_and_administrator_pages_break_no_rule(make_user, page, live_server, browser_login, watch):
    browser_login(make_user("zhou", role=Role.SUPERVISOR, county=None, kind=None))
    for path in ("/staff/overdue", "/staff/figures/", "/staff/callbacks", "/staff/businesses", "/account/password"):
        page.goto(f"{live_server}{path}")
        watch.assert_clean()
    page.click("button:has-text('退出')")
    browser_login(make_user("admin", role=Role.ADMIN, county=None, kind=None))
    for path in ("/admin/", "/admin/users", "/admin/calendar", "/admin/reference/330324", "/admin/templates"):
        page.goto(f"{live_server}{path}")
        watch.assert_clean()
