"""A live server on localhost and headless Chromium (Debian's, installed by .ci/run) driven by Playwright."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs it")
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def browser_login(page, live_server):
    def do(user):
        page.goto(f"{live_server}/login")
        page.fill("#username", user.username)
        page.fill("#password", "pw-" + user.username)
        page.click("button[type=submit]")

    return do


def fill_complaint(page) -> None:
    """The citizen form filled in with a complaint about a fake-fertiliser shop in 桥头镇."""
    page.check("#kind-0")  # 投诉
    page.fill("#business_name", "江边农资店")
    page.fill("#business_address", "永嘉县桥头镇")
    page.select_option("#industry", "farm_inputs")
    page.fill("#description", "买的复合肥是假的，撒下去庄稼一点都不长。")
    page.fill("#complainant_name", "张三")
    page.fill("#complainant_phone", "139 1234 5678")
