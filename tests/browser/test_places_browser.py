"""In the browser: the one place picker, on the dispatcher's case page and in the operator console."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from tests.browser.test_hotline_browser import CALL
from tests.intake.test_dispatch import VAGUE

expect = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs it").expect

OUBEI = "330324009"
HOMOPHONES = [("甘浦", "澉浦镇", "按读音"), ("新代", "新埭镇", "按读音")]


@pytest.fixture
def triage_case(client, run_jobs):
    client.post("/api/v1/cases", json=VAGUE)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.status is CaseStatus.TRIAGE
    return case


@pytest.fixture
def on_case_page(triage_case, make_user, page, live_server, browser_login):
    browser_login(make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None))
    page.goto(f"{live_server}/staff/cases/{triage_case.id}")
    page.wait_for_selector("#dispatch-form")
    page.select_option("#industry", "pharmacy")
    page.fill("#township", "")
    return triage_case


def routed(case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def test_dispatcher_types_a_name_presses_enter_and_the_case_is_routed_there(on_case_page, page):
    page.keyboard.type("瓯北")
    page.keyboard.press("Enter")  # picks the first place, even before the answer showed
    expect(page.locator("#township")).to_have_value("瓯北街道")
    assert page.input_value("#township_code") == OUBEI
    page.keyboard.press("Enter")  # the list is closed: this one submits
    assert "已派单给 永嘉县市场监督管理局" in page.inner_text(".flash")
    case = routed(on_case_page)
    assert case.status is CaseStatus.DISPATCHED and case.township_code == OUBEI


def test_a_name_typed_and_submitted_without_picking_is_resolved_by_the_server(on_case_page, page):
    page.keyboard.type("瓯北")
    page.keyboard.press("Escape")  # no pick: the form posts the text alone
    assert page.input_value("#township_code") == ""
    page.keyboard.press("Enter")
    assert "已派单给" in page.inner_text(".flash")
    assert routed(on_case_page).township_code == OUBEI


@pytest.mark.parametrize("typed, name, how", HOMOPHONES)
def test_the_dispatchers_picker_finds_a_homophone_and_says_how(on_case_page, page, typed, name, how):
    page.keyboard.type(typed)
    first = page.locator("#township-options li[aria-selected=true]")
    first.wait_for()
    assert first.locator(".name").inner_text() == name and first.locator(".how").inner_text() == how
    page.keyboard.press("Enter")
    assert page.input_value("#township") == name


def _take_call(app, client, make_user, page, live_server, browser_login):
    browser_login(make_user("lijing", role=Role.OPERATOR, county=None, kind=None))
    page.goto(f"{live_server}/hotline/")
    resp = client.post("/hotline/calls", json=CALL, headers={"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"})
    assert resp.status_code == 201
    page.wait_for_selector("#ringing li")
    page.keyboard.press("Alt+n")
    page.wait_for_selector("#case-form", state="visible")


@pytest.mark.parametrize("typed, name, how", HOMOPHONES)
def test_the_operators_picker_finds_a_homophone_and_says_how(
    app, client, make_user, page, live_server, browser_login, typed, name, how
):
    _take_call(app, client, make_user, page, live_server, browser_login)
    page.keyboard.press("Alt+t")
    page.keyboard.type(typed)
    first = page.locator("#township-options li[aria-selected=true]")
    first.wait_for()
    assert first.locator(".name").inner_text() == name and first.locator(".how").inner_text() == how
    page.keyboard.press("Enter")
    assert page.input_value("#township") == name
    assert page.evaluate("document.activeElement.id") == "village"  # picking moves on


def test_the_operators_village_picker_searches_the_picked_township(
    app, client, make_user, page, live_server, browser_login
):
    _take_call(app, client, make_user, page, live_server, browser_login)
    page.keyboard.press("Alt+t")
    page.keyboard.type("obj")
    page.keyboard.press("Enter")
    expect(page.locator("#village")).to_be_focused()  # picked: on to the village
    assert page.input_value("#township_code") == OUBEI
    page.keyboard.type("lf")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    first = page.locator("#village-options li[aria-selected=true]")
    assert first.locator(".name").inner_text() == "罗浮社区"
    page.keyboard.press("Enter")
    assert page.input_value("#village_code") == "330324009013"
    assert page.evaluate("document.activeElement.id") == "industry"


@pytest.mark.parametrize("where", ["dispatch", "hotline"])
def test_the_pickers_fit_a_390_px_phone(app, client, make_user, page, live_server, browser_login, where, request):
    page.set_viewport_size({"width": 390, "height": 844})
    if where == "dispatch":
        request.getfixturevalue("on_case_page")
        page.click("#township")
    else:
        _take_call(app, client, make_user, page, live_server, browser_login)
        page.keyboard.press("Alt+t")
    page.keyboard.type("甘浦")
    page.locator("#township-options li").first.wait_for()
    box = page.locator("#township-options").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=f"/tmp/place-picker-{where}-390.png", full_page=True)
