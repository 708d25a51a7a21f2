"""Throttles on the public endpoints: 429 with Retry-After and a Chinese message; the SMS webhook
drops a flooding sender with a 200 (no redelivery storm); with Redis gone everything still works."""

import pytest
import sqlalchemy as sa
from redis import Redis

from intake import security, throttles
from intake.cases.models import Case
from intake.extensions import db, limiter
from tests.intake.test_api import PHARMACY
from tests.intake.test_sms import payload, post
from tests.intake.test_web_form import GOOD

ONE = {"REMOTE_ADDR": "203.0.113.7"}
TWO = {"REMOTE_ADDR": "198.51.100.9"}


@pytest.fixture
def throttled(app, monkeypatch):
    """The session app with its throttles on (the suite runs with THROTTLES_ENABLED=False)."""
    monkeypatch.setitem(app.config, "THROTTLES_ENABLED", True)
    monkeypatch.delitem(app.config, "RATELIMIT_STORAGE_URI")  # the suite's app counts in memory: Redis now
    limiter._storage_dead = False  # a test that took Redis away leaves the limiter on its fallback
    throttles.init_app(app)
    return app


def case_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Case.id)))


def test_the_eleventh_web_filing_a_minute_from_one_address_gets_429_in_chinese(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_FILING", "10 per minute")
    for _ in range(10):
        assert client.post("/", data=GOOD, environ_base=ONE).status_code == 302
    resp = client.post("/", data=GOOD, environ_base=ONE)
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    page = resp.get_data(as_text=True)
    assert "操作太频繁" in page and "后再试" in page and "<html" in page.lower()
    assert case_count() == 10
    assert client.post("/", data=GOOD, environ_base=TWO).status_code == 302  # another address may file


def test_the_eleventh_api_filing_a_minute_from_one_address_gets_429_json(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_API_FILING", "10 per minute")
    for _ in range(10):
        assert client.post("/api/v1/cases", json=PHARMACY, environ_base=ONE).status_code == 201
    resp = client.post("/api/v1/cases", json=PHARMACY, environ_base=ONE)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "操作太频繁" in resp.get_json()["errors"]["request"][0]
    assert case_count() == 10


def test_the_form_page_itself_is_not_counted(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_FILING", "1 per minute")
    for _ in range(3):
        assert client.get("/", environ_base=ONE).status_code == 200
    assert client.post("/", data=GOOD, environ_base=ONE).status_code == 302


def test_lookups_of_one_number_are_throttled_across_addresses_and_channels(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_LOOKUP_CASE", "3 per hour")
    filed = client.post("/api/v1/cases", json=PHARMACY).get_json()
    number = filed["tracking_no"]
    guesses = [
        lambda: client.post("/lookup", data={"tracking_no": number, "lookup_code": "000000"}, environ_base=ONE),
        lambda: client.get(f"/api/v1/cases/{number}", headers={"X-Lookup-Code": "000001"}, environ_base=TWO),
        lambda: client.post("/lookup", data={"tracking_no": number, "lookup_code": "000002"}, environ_base=TWO),
    ]
    assert [guess().status_code for guess in guesses] == [200, 404, 200]
    # the fourth try, from a third address and with the right code, waits like any other
    resp = client.get(
        f"/api/v1/cases/{number}",
        headers={"X-Lookup-Code": filed["lookup_code"]},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    page = client.post("/lookup", data={"tracking_no": number, "lookup_code": filed["lookup_code"]}, environ_base=ONE)
    assert page.status_code == 429 and "操作太频繁" in page.get_data(as_text=True)
    other = client.post("/api/v1/cases", json=PHARMACY).get_json()  # another number is not affected
    assert (
        client.get(f"/api/v1/cases/{other['tracking_no']}", headers={"X-Lookup-Code": other["lookup_code"]}).status_code
        == 200
    )


def test_lookups_from_one_address_are_throttled_whatever_the_number(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_LOOKUP_IP", "2 per minute")
    for n in range(2):
        assert (
            client.get(
                f"/api/v1/cases/26112300000{n:02d}", headers={"X-Lookup-Code": "1"}, environ_base=ONE
            ).status_code
            == 404
        )
    assert (
        client.post("/lookup", data={"tracking_no": "2611230000099", "lookup_code": "1"}, environ_base=ONE).status_code
        == 429
    )
    assert client.get("/lookup", environ_base=ONE).status_code == 200  # the empty form still shows


def test_logins_are_throttled_per_username_across_addresses(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_LOGIN_USER", "3 per minute")
    monkeypatch.setitem(throttled.config, "LOGIN_MAX_FAILURES", 100)
    addresses = [{"REMOTE_ADDR": f"192.0.2.{n}"} for n in range(4)]
    codes = [
        client.post("/login", data={"username": "wang", "password": "x"}, environ_base=a).status_code for a in addresses
    ]
    assert codes == [200, 200, 200, 429]
    assert client.post("/login", data={"username": "li", "password": "x"}, environ_base=ONE).status_code == 200


def test_logins_are_throttled_per_address(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "RATELIMIT_LOGIN_IP", "2 per minute")
    codes = [
        client.post("/login", data={"username": f"u{n}", "password": "x"}, environ_base=ONE).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_a_flooding_sms_sender_is_answered_200_throttled_and_nothing_is_stored(client, throttled, monkeypatch):
    from intake.sms.models import InboundSms
    from notify.backends import MemoryBackend

    monkeypatch.setitem(throttled.config, "SMS_WEBHOOK_SECRET", "test-sms-secret")
    monkeypatch.setitem(throttled.config, "RATELIMIT_SMS_SENDER", "3 per minute")
    MemoryBackend.sent.clear()
    statuses = [post(client, payload("帮助")).get_json()["status"] for _ in range(3)]
    assert statuses == ["help"] * 3
    resp = post(client, payload("帮助"))
    assert resp.status_code == 200  # a 4xx/5xx would have the gateway redeliver the flood
    assert resp.get_json()["status"] == "throttled" and int(resp.headers["Retry-After"]) > 0
    assert db.session.scalar(sa.select(sa.func.count(InboundSms.id))) == 3
    assert post(client, payload("帮助", sender="13900001111")).get_json()["status"] == "help"


def test_forged_sms_do_not_use_up_a_senders_allowance(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "SMS_WEBHOOK_SECRET", "test-sms-secret")
    monkeypatch.setitem(throttled.config, "RATELIMIT_SMS_SENDER", "2 per minute")
    for _ in range(5):
        assert post(client, payload("帮助"), signature="forged").status_code == 401
    assert post(client, payload("帮助")).get_json()["status"] == "help"


def test_the_sms_webhook_and_the_hotline_hook_have_a_per_address_limit(client, throttled, monkeypatch):
    monkeypatch.setitem(throttled.config, "SMS_WEBHOOK_SECRET", "test-sms-secret")
    monkeypatch.setitem(throttled.config, "RATELIMIT_SMS_IP", "2 per minute")
    monkeypatch.setitem(throttled.config, "RATELIMIT_HOTLINE_IP", "1 per minute")
    assert [post(client, payload("帮助", sender=f"1390000111{n}")).status_code for n in range(3)] == [200, 200, 429]
    resp = post(client, payload("帮助", sender="13900001119"))
    assert resp.get_json()["errors"]["request"] and "Retry-After" in resp.headers
    assert client.post("/hotline/calls", json={}).status_code == 401
    assert client.post("/hotline/calls", json={}).status_code == 429


def test_with_redis_unreachable_filing_still_works(client, throttled, monkeypatch, caplog):
    dead = "redis://127.0.0.1:1/5"
    monkeypatch.setitem(throttled.config, "RATELIMIT_STORAGE_URI", dead)
    monkeypatch.setitem(throttled.config, "RATELIMIT_FILING", "10 per minute")
    throttles.init_app(throttled)
    monkeypatch.setitem(throttled.extensions, "redis", Redis.from_url(dead, socket_connect_timeout=0.2))
    resp = client.post("/", data=GOOD, environ_base=ONE, follow_redirects=True)
    assert resp.status_code == 200 and "查询码" in resp.get_data(as_text=True)
    assert client.post("/api/v1/cases", json=PHARMACY, environ_base=ONE).status_code == 201
    assert case_count() == 2
    assert "falling back to in-memory storage" in caplog.text


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_count(client, throttled, monkeypatch):
    monkeypatch.setattr(throttled, "wsgi_app", throttled.wsgi_app)  # undone after the test
    monkeypatch.setitem(throttled.config, "PROXY_FIX_X_FOR", 1)
    monkeypatch.setitem(throttled.config, "RATELIMIT_API_FILING", "1 per minute")
    security.trust_proxies(throttled)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def file(address):
        return client.post("/api/v1/cases", json=PHARMACY, environ_base=proxy, headers={"X-Forwarded-For": address})

    assert [file("203.0.113.7").status_code, file("198.51.100.9").status_code] == [201, 201]
    assert file("203.0.113.7").status_code == 429


@pytest.mark.parametrize(
    "redis_url, uri",
    [
        ("unix:///tmp/x/redis.socket", "redis+unix:///tmp/x/redis.socket"),  # the embedded server
        ("redis://127.0.0.1:6379/5", "redis://127.0.0.1:6379/5"),
    ],
)
def test_the_limiter_counts_in_the_apps_redis(redis_url, uri):
    assert throttles.storage_uri(redis_url) == uri


def test_the_app_has_no_every_request_throttle_check_while_no_default_limit_needs_it(app):
    """Each limit is on its view and checked by its decorator (the tests above); Flask-Limiter's
    before_request check for default limits, with none set, is dropped (intake/throttles.py)."""
    assert limiter._check_request_limit not in app.before_request_funcs[None]
