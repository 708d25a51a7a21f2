"""Every HTML page carries the security headers; every inline script has the response's nonce."""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import request, url_for

from intake import create_app
from intake.accounts.models import Role, User
from intake.authz import PUBLIC, ROUTES
from intake.businesses.models import Business
from intake.extensions import db
from tests.intake.test_api import PHARMACY
from tests.intake.test_dispatch import VAGUE
from tests.intake.test_queue import file_and_route

# GET routes that answer JSON, files or bytes, not a page.
NOT_HTML = {
    "static",
    "api.get_case",
    "api.openapi",
    "hotline.feed",
    "places.search",
    "reports.figures_csv",
    "reports.figures_xlsx",
}
NOT_HTML |= {"health.healthz", "health.readyz", "health.metrics"}  # JSON and Prometheus text, for machines
NOT_HTML |= {  # Open311: JSON or XML for other systems (tests/intake/test_open311.py)
    "open311.discovery",
    "open311.service_list",
    "open311.service_definition",
    "open311.request_list",
    "open311.request_detail",
    "open311.token",
}

# Which login opens which page: the first prefix of the endpoint that matches; None is a citizen.
LOGIN_FOR = [
    ("admin.", Role.ADMIN),
    ("hotline.", Role.OPERATOR),
    ("dispatch.", Role.DISPATCHER),
    ("reports.", Role.SUPERVISOR),
    ("businesses.", Role.SUPERVISOR),
    ("callbacks.", Role.SUPERVISOR),
    ("staff.overdue", Role.SUPERVISOR),
    ("staff.", Role.DEPARTMENT),
    ("accounts.change_password", Role.DEPARTMENT),
    ("", None),
]
USERNAMES = {
    Role.ADMIN: "admin",
    Role.OPERATOR: "lijing",
    Role.DISPATCHER: "wangfang",
    Role.SUPERVISOR: "zhou",
    Role.DEPARTMENT: "yj-market",
}


class PageParts(HTMLParser):
    """The inline scripts and styles of a page, with their nonces, and any style=/on…= attribute."""

    def __init__(self):
        super().__init__()
        self.inline = []  # (tag, nonce)
        self.attributes = []  # (tag, attribute)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "style" or (tag == "script" and "src" not in attrs):
            self.inline.append((tag, attrs.get("nonce")))
        self.attributes += [(tag, name) for name in attrs if name == "style" or name.startswith("on")]


def assert_secure_page(response, expect_no_store: bool = True) -> None:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'", policy).group(1)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert f"style-src 'self' 'nonce-{nonce}'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # development: no HSTS
    if expect_no_store:
        assert response.headers["Cache-Control"] == "no-store"
    parts = PageParts()
    parts.feed(response.get_data(as_text=True))
    assert [(tag, n) for tag, n in parts.inline if n != nonce] == []
    assert parts.attributes == []


@pytest.fixture
def staff(make_user):
    """One user of each role, made when first asked for."""
    made = {}

    def get(role: Role) -> User:
        if role not in made:
            if role is Role.DEPARTMENT:
                made[role] = make_user(USERNAMES[role])
            else:
                made[role] = make_user(USERNAMES[role], role=role, county=None, kind=None)
        return made[role]

    return get


def login_as(client, user: User) -> None:
    client.post("/login", data={"username": user.username, "password": "pw-" + user.username})


def _role_for(endpoint: str) -> Role | None:
    return next(role for prefix, role in LOGIN_FOR if endpoint.startswith(prefix))


def _html_pages(app) -> list:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in NOT_HTML),
        key=lambda rule: rule.rule,
    )


def test_every_html_page_has_the_headers_and_only_nonced_inline_scripts(app, client, run_jobs, staff):
    case = file_and_route(client, run_jobs)
    business = db.session.scalar(sa.select(Business))
    values = {
        "case_id": case.id,
        "county_code": "330324",
        "business_id": business.id if business else None,
        "user_id": staff(Role.ADMIN).id,
    }
    seen, logged_in = [], None
    for rule in _html_pages(app):
        role = _role_for(rule.endpoint)
        if role is not logged_in:
            if logged_in is not None:
                client.post("/logout")
            if role is not None:
                login_as(client, staff(role))
            logged_in = role
        if rule.endpoint == "public.receipt":  # what the citizen form leaves in the session
            with client.session_transaction() as s:
                s["receipt"] = {"tracking_no": case.tracking_no, "lookup_code": "123456"}
        args = {name: values.get(name) for name in rule.arguments}
        assert None not in args.values(), f"no value for {rule.rule}"
        with app.test_request_context():
            url = url_for(rule.endpoint, **args)
        response = client.get(url)
        assert response.status_code == 200, f"{url} as {role}: {response.status_code} {response.location}"
        assert_secure_page(response)
        seen.append(rule.endpoint)
    assert {"public.file_case", "public.receipt", "public.lookup", "staff.case_detail", "hotline.console"} <= set(seen)
    assert {"dispatch.triage", "admin.edit_user", "accounts.login", "reports.figures"} <= set(seen)


def test_the_lookup_result_and_the_triage_case_page_are_secure_too(client, run_jobs, staff):
    filed = client.post("/api/v1/cases", json=PHARMACY).get_json()
    found = client.post("/lookup", data={"tracking_no": filed["tracking_no"], "lookup_code": filed["lookup_code"]})
    assert filed["tracking_no"] in found.get_data(as_text=True)
    assert_secure_page(found)

    triage = file_and_route(client, run_jobs, VAGUE)
    login_as(client, staff(Role.DISPATCHER))
    page = client.get(f"/staff/cases/{triage.id}")
    assert 'id="dispatch-form"' in page.get_data(as_text=True)  # the place picker and its inline script
    assert_secure_page(page)


def test_errors_and_static_files_have_the_headers_and_static_files_may_be_cached(client):
    missing = client.get("/staff/cases/999999")
    assert missing.status_code in (302, 404)
    assert "frame-ancestors 'none'" in missing.headers["Content-Security-Policy"]
    css = client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in css.headers.get("Cache-Control", "")


def test_hsts_only_in_production(monkeypatch, tmp_path):
    for key, value in {
        "APP_ENV": "production",
        "SECRET_KEY": "k3J9x-" + "aQ7rT2vLm8ZpW4nYc6Hs0Bd5Fg1Ej",
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
        "REDIS_URL": "redis://unused",
        "HOTLINE_TOKEN": "t",
        "SMS_WEBHOOK_SECRET": "s",
        "LOOKUP_CODE_KEY": "l",
        "METRICS_TOKEN": "m",
        "NOTIFY_SMS_BACKEND": "http",
        "NOTIFY_SMS_HTTP_URL": "https://sms.example/send",
        "NOTIFY_MAIL_BACKEND": "smtp",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    response = create_app().test_client().get("/static/site.css")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_remote_addr_is_the_client_behind_exactly_the_configured_proxies(tmp_path, monkeypatch):
    def remote_addr(**settings) -> str:
        overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3", "THROTTLES_ENABLED": False}
        ROUTES.pop("addr", None)  # a second app would find the first's entry with no route
        app = create_app({**overrides, "REDIS_URL": "redis://unused", **settings})
        monkeypatch.setitem(ROUTES, "addr", PUBLIC)  # the page added below, in the authorization table

        @app.get("/_addr")
        def addr():
            return f"{request.remote_addr} {request.scheme}"

        forwarded = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7", "X-Forwarded-Proto": "https"}
        return app.test_client().get("/_addr", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.2"}).text

    assert remote_addr() == "10.0.0.2 http"  # default: no proxy trusted, the header is ignored
    assert remote_addr(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1) == "203.0.113.7 https"  # not the forged 6.6.6.6
    assert remote_addr(PROXY_FIX_X_FOR=2) == "6.6.6.6 http"
