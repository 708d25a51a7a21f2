"""Honest answers under faults: a database outage is a 503 with Retry-After that says nothing was
stored; a case that was committed is answered as filed even when Redis or a later write fails;
text the database cannot take (NUL, lone surrogates) and JSON it cannot parse are field errors."""

import json

import pytest
import sqlalchemy as sa
from redis import Redis
from sqlalchemy import event
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus, Channel
from intake.extensions import db
from intake.sms.models import InboundSms
from tests.intake.test_api import PHARMACY
from tests.intake.test_hotline import CALL, FILING
from tests.intake.test_sms import payload, post
from tests.intake.test_web_form import GOOD

NOT_STORED = ("没有保存", "未保存")


def _refuse(*args, **kwargs):
    raise OperationalError("connect", {}, ConnectionRefusedError("connection refused (test: the database is down)"))


@pytest.fixture
def database_down(app, monkeypatch):
    """From now on every new connection to the database fails, as when the server is down."""

    def down():
        monkeypatch.setattr(db.engine, "raw_connection", _refuse)
        db.engine.pool.dispose()  # and the pooled connections are gone with it

    return down


@pytest.fixture
def redis_down(app, monkeypatch):
    """Redis at a port where nothing listens."""
    dead = Redis.from_url("redis://127.0.0.1:1/10", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setitem(app.extensions, "redis", dead)


@pytest.fixture
def operator_on_call(client, app, make_user, login):
    operator = make_user("lijing", role=Role.OPERATOR, county=None, kind=None)
    token = app.config["HOTLINE_TOKEN"]
    call_pk = client.post("/hotline/calls", json=CALL, headers={"Authorization": f"Bearer {token}"}).get_json()["id"]
    login(operator)
    assert client.post(f"/hotline/calls/{call_pk}/take").status_code == 200
    return call_pk


def cases() -> list[Case]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Case)).all()


def post_json(client, url, body, **kw):
    """JSON as a client sends it: a lone surrogate goes as the escape \\ud800 (json.dumps's default)."""
    return client.post(url, data=json.dumps(body), content_type="application/json", **kw)


def says_not_stored(text: str) -> bool:
    return any(words in text for words in NOT_STORED)


def test_web_form_with_the_database_down_is_a_503_that_says_nothing_was_stored(client, database_down):
    database_down()
    resp = client.post("/", data=GOOD)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert says_not_stored(page) and "不会丢失" not in page and "重新提交" in page


def test_api_with_the_database_down_is_a_503_in_json(client, database_down):
    database_down()
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert says_not_stored(resp.get_json()["errors"]["request"][0])


def test_sms_with_the_database_down_is_a_503_so_the_gateway_delivers_it_again(client, app, monkeypatch, database_down):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", "test-sms-secret")
    database_down()
    resp = post(client, payload("瓯北街道好日子大药房卖过期感冒药。"))
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert resp.get_json()["errors"]["request"]


def test_phone_system_with_the_database_down_is_a_503_in_json(client, app, database_down):
    database_down()
    headers = {"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"}
    resp = client.post("/hotline/calls", json=CALL, headers=headers)
    assert resp.status_code == 503 and resp.headers["Retry-After"] and resp.get_json()["errors"]["request"]


def test_console_filing_and_staff_pages_with_the_database_down_are_503_pages(client, operator_on_call, database_down):
    database_down()
    resp = client.post(f"/hotline/calls/{operator_on_call}/file", data=FILING)
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert says_not_stored(resp.get_data(as_text=True))
    queue = client.get("/staff/")
    assert queue.status_code == 503 and queue.headers["Retry-After"] and "暂时无法使用" in queue.get_data(as_text=True)


def test_a_failing_commit_is_a_503_and_stores_nothing(client, app, monkeypatch):
    monkeypatch.setattr(app, "testing", False)  # as in production: Flask answers the error, not the test
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def fail(session):
        raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection"))

    event.listen(Session, "before_commit", fail)
    try:
        resp = client.post("/api/v1/cases", json=PHARMACY)
    finally:
        event.remove(Session, "before_commit", fail)
    assert resp.status_code == 503 and says_not_stored(resp.get_json()["errors"]["request"][0])
    assert cases() == []


def test_redis_down_after_the_commit_still_answers_201_and_the_case_waits_as_received(client, redis_down):
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    (case,) = cases()
    assert case.tracking_no == resp.get_json()["tracking_no"] and case.status is CaseStatus.RECEIVED


def test_redis_down_web_form_still_shows_the_receipt(client, redis_down):
    resp = client.post("/", data=GOOD)
    assert resp.status_code == 302
    receipt = client.get("/receipt").get_data(as_text=True)
    (case,) = cases()
    assert case.tracking_no in receipt and case.channel is Channel.WEB and case.status is CaseStatus.RECEIVED


def test_the_database_lost_after_the_commit_does_not_undo_the_operators_answer(client, operator_on_call, monkeypatch):
    """The staff session's last-seen write runs after the request's commit; its failure is logged only."""
    from intake.accounts import views as accounts_views

    def later(*args, **kwargs):
        raise OperationalError("UPDATE staff_session", {}, ConnectionResetError("gone"))

    monkeypatch.setattr(accounts_views, "touch_session", later)
    monkeypatch.setattr(accounts_views, "session_needs_touch", lambda record: True)
    resp = client.post(f"/hotline/calls/{operator_on_call}/file", data=FILING)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert [c.channel for c in cases()] == [Channel.HOTLINE]


def test_an_unexpected_error_page_no_longer_promises_the_submission_is_kept(client, app, monkeypatch):
    from intake.cases import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "submit_case", broken)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.post("/", data=GOOD)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "不会丢失" not in page and says_not_stored(page)
    assert cases() == []


def test_a_value_the_database_refuses_that_no_check_caught_is_a_400_not_a_500(client, monkeypatch):
    from intake.api import views

    def refused(*args, **kwargs):
        raise DataError("INSERT INTO case", {}, ValueError("value too long for type character varying(200)"))

    monkeypatch.setattr(views, "submit_case", refused)
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 400 and "无法保存" in resp.get_json()["errors"]["request"][0]


# Inputs the database or the JSON parser cannot take: a field error on every channel.

NUL, SURROGATE = "药\x00房", "\ud800"
DEEP = '{"description": ' + "[" * 200 + "]" * 200 + "}"


@pytest.mark.parametrize("bad", [NUL, "控制\x07字符"])
@pytest.mark.parametrize("field", ["business_name", "description", "complainant_name"])
def test_web_form_text_the_database_cannot_store_is_a_field_error(client, field, bad):
    resp = client.post("/", data={**GOOD, field: GOOD[field] + bad})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and ("空字符" in page or "控制字符" in page)
    assert cases() == []


@pytest.mark.parametrize("bad, words", [(NUL, "空字符"), (SURROGATE, "代理字符")])
@pytest.mark.parametrize("field", ["business_name", "description"])
def test_api_text_the_database_cannot_store_is_a_field_error(client, field, bad, words):
    resp = post_json(client, "/api/v1/cases", {**PHARMACY, field: PHARMACY[field] + bad})
    assert resp.status_code == 422 and words in resp.get_json()["errors"][field][0]
    assert cases() == []


def test_api_nested_field_names_the_field(client):
    body = {**PHARMACY, "complainant": {"name": "李\x00明", "phone": "13812345678"}}
    resp = client.post("/api/v1/cases", json=body)
    assert resp.status_code == 422 and "空字符" in resp.get_json()["errors"]["complainant.name"][0]


@pytest.mark.parametrize(
    "raw, words",
    [
        (DEEP, "嵌套"),
        ('{"description": ' + "1" * 5000 + "}", "JSON"),
        ('{"urgent": NaN}', "NaN"),
        ('{"description": 1e999}', "数字"),
        (b'{"description": "\xff"}', "UTF-8"),
    ],
)
def test_api_json_the_parser_cannot_take_is_a_body_error(client, raw, words):
    resp = client.post("/api/v1/cases", data=raw, content_type="application/json")
    assert resp.status_code == 422 and words in json.dumps(resp.get_json()["errors"], ensure_ascii=False)


def test_lookup_with_a_nul_or_a_surrogate_is_a_field_error(client):
    web = client.post("/lookup", data={"tracking_no": "2026\x00", "lookup_code": "123456"})
    assert web.status_code == 422 and "空字符" in web.get_data(as_text=True)
    api = post_json(client, "/api/v1/cases/20260001/lookup", {"lookup_code": SURROGATE})
    assert api.status_code == 422 and "代理字符" in api.get_json()["errors"]["lookup_code"][0]
    deep = client.post("/api/v1/cases/20260001/lookup", data=DEEP, content_type="application/json")
    assert deep.status_code == 422 and deep.get_json()["errors"]["body"]


@pytest.mark.parametrize("field, bad", [("call_id", NUL), ("caller", SURROGATE), ("line", NUL)])
def test_phone_system_hook_with_bad_text_is_a_field_error(client, app, field, bad):
    headers = {"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"}
    resp = post_json(client, "/hotline/calls", {**CALL, field: bad}, headers=headers)
    assert resp.status_code == 400 and resp.get_json()["errors"][field]
    deep = client.post("/hotline/calls", data=DEEP, content_type="application/json", headers=headers)
    assert deep.status_code == 400 and deep.get_json()["errors"]["body"]


def test_console_filing_with_a_nul_is_a_field_error_and_files_nothing(client, operator_on_call):
    resp = client.post(f"/hotline/calls/{operator_on_call}/file", data={**FILING, "description": "过期\x00药"})
    assert resp.status_code == 422 and "空字符" in resp.get_data(as_text=True)
    assert cases() == []


def test_staff_free_text_with_a_nul_is_a_400_naming_the_field(client, run_jobs, make_user, login):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case_id = db.session.scalar(sa.select(Case.id))
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case_id}/sign")
    client.post(f"/staff/cases/{case_id}/accept")
    resp = client.post(f"/staff/cases/{case_id}/reply", data={"result": "mediated", "text": "已调解\x00退款。"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "空字符" in page and "答复内容" in page
    db.session.expire_all()
    assert db.session.get(Case, case_id).status is not CaseStatus.REPLIED


def test_unreadable_sms_is_kept_answered_200_and_shown_to_the_admin(client, app, monkeypatch, make_user, login):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", "test-sms-secret")
    resp = post(client, payload("瓯北街道药房\x00卖过期药", sender="13812345678"))
    assert resp.status_code == 200 and resp.get_json()["status"] == "unreadable"
    assert db.session.scalar(sa.select(InboundSms.outcome)) == "unreadable"

    login(make_user("yj-market"))
    assert client.get("/admin/sms/unreadable").status_code == 403
    client.post("/logout")
    login(make_user("root", role=Role.ADMIN, kind=None))
    page = client.get("/admin/sms/unreadable").get_data(as_text=True)
    assert "空字符" in page and "瓯北街道药房" in page and "138****5678" in page and "13812345678" not in page


def test_every_form_of_the_app_inherits_the_text_check(app):
    from flask_wtf import FlaskForm

    from intake.forms import IntakeForm

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    ours = [c for c in every(FlaskForm) if c.__module__.startswith(("intake", "routing", "notify"))]
    assert len(ours) > 30 and [c.__qualname__ for c in ours if not issubclass(c, IntakeForm)] == []
