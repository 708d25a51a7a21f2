"""In the browser, on a phone-sized screen: a citizen files on the web form and looks the case up."""

import pytest

from tests.browser.conftest import fill_complaint

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_files_on_a_phone_and_looks_the_case_up(phone, live_server, run_jobs):
    page = phone
    page.goto(f"{live_server}/")
    assert "110" in page.inner_text(".notice") and fits_the_screen(page)
    fill_complaint(page)
    page.tap("button[type=submit]")

    tracking_no = page.inner_text("#tracking-no").strip()
    code = page.inner_text("#lookup-code").strip()
    assert len(tracking_no) == 13 and len(code) == 6 and fits_the_screen(page)
    page.screenshot(path="/tmp/citizen-receipt-phone.png", full_page=True)
    page.reload()  # the code is shown once: a reload shows the number and says so
    assert page.inner_text("#tracking-no").strip() == tracking_no and page.locator("#lookup-code").count() == 0
    assert "只显示一次" in page.inner_text("#code-shown-once")

    run_jobs()
    page.tap("text=查询进度 >> nth=-1")
    page.fill("#tracking_no", tracking_no)
    page.fill("#lookup_code", code)
    page.tap("button[type=submit]")
    assert page.inner_text("#case-status") == "已转交承办部门，待签收"
    assert "登记" in page.inner_text("#case-view") and "已受理" not in page.inner_text("#case-view")
    assert fits_the_screen(page)
