"""In the browser: a clerk's queue puts the overdue case first and filters it; 退单 lands on the queue; a phone."""

from datetime import timedelta

import pytest

from intake.extensions import db
from intake.types import utcnow
from tests.factories import CaseFactory, ClockFactory


def _case(due_in_hours, name, window_days=None):
    case = CaseFactory(dispatched=True, business_name=name, industry_code="pharmacy")
    ClockFactory(case=case, started_at=utcnow() - timedelta(days=2), due_at=utcnow() + timedelta(hours=due_in_hours))
    if window_days is not None:
        ClockFactory(case=case, name="return", due_at=utcnow() + timedelta(days=window_days))
    db.session.commit()
    return case


def test_red_case_first_with_its_mark_and_overdue_only_finds_it(make_user, page, live_server, browser_login):
    later = _case(48, "晚些到期的药店")
    red = _case(-3, "超期的药店")
    browser_login(make_user("yj-market"))
    page.goto(f"{live_server}/staff/")
    first = page.locator("#queue-table tbody tr").first
    assert red.tracking_no in first.inner_text() and "超期" in first.locator(".tag.overdue").inner_text()
    assert "已超期 1" in page.inner_text("#queue-counts")
    page.check("#overdue")
    page.click("#filter")
    rows = page.locator("#queue-table tbody tr")
    assert rows.count() == 1 and red.tracking_no in rows.first.inner_text()
    assert later.tracking_no not in page.inner_text("main")


def test_return_lands_on_the_queue_with_a_notice(make_user, page, live_server, browser_login):
    case = _case(24, "错派的药店", window_days=2)
    browser_login(make_user("yj-market"))
    page.goto(f"{live_server}/staff/cases/{case.id}")
    page.fill("#reason", "该店在桥头镇，不属本局")
    page.locator("form[action$='/return'] button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/")
    notice = page.inner_text(".flash")
    assert "已退单" in notice and case.tracking_no in notice
    assert page.locator("#queue-table").count() == 0  # it left this clerk's queue


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


NARROW = """() => {
  const fs = parseFloat(getComputedStyle(document.body).fontSize);
  const items = [...document.querySelectorAll('header > *, #queue-table th, #queue-table td')];
  return items.filter(e => e.innerText.trim().length > 1 && e.getBoundingClientRect().width < 1.9 * fs)
              .map(e => e.innerText.trim());
}"""


def test_the_queue_is_readable_at_390_px(make_user, phone, live_server, tmp_path):
    for i in range(3):
        _case(-1 + i * 30, f"瓯北街道江北路{i}号好日子大药房连锁店")
    make_user("yj-market")
    phone.goto(f"{live_server}/login")
    phone.fill("#username", "yj-market")
    phone.fill("#password", "pw-yj-market")
    phone.click("button[type=submit]")
    phone.goto(f"{live_server}/staff/")
    shot = tmp_path / "queue-390.png"
    phone.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    assert phone.evaluate(NARROW) == []  # nothing broken one character per line
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the page does not widen
    wrapper = phone.evaluate(
        "(() => { const w = document.querySelector('.table-scroll'); return [w.scrollWidth, w.clientWidth]; })()"
    )
    assert wrapper[0] > wrapper[1]  # the table scrolls inside its wrapper instead of squeezing
