"""The hotline: the phone system announces calls, one operator takes each, files or answers it."""

import re
import threading

import pytest
import sqlalchemy as sa

from intake import config
from intake.accounts.models import Role, User
from intake.cases.models import Case, CaseStatus, Channel, PersonalDataAccess
from intake.extensions import db
from intake.hotline import services
from intake.hotline.models import Call, CallStatus
from intake.transaction import transactional
from notify.backends import MemoryBackend
from notify.models import Message
from tests.intake.test_api import PHARMACY

CALL = {"call_id": "pbx-0001", "caller": "13812345678", "line": "12315-3", "started_at": "2026-05-06T09:30:00+08:00"}
CALLER = "+8613812345678"
FILING = {
    "kind": "complaint",
    "township": "瓯北街道",
    "township_code": "330324009",
    "industry": "pharmacy",
    "business_name": "好日子大药房",
    "description": "买的感冒药过期两个月了，店员不肯退换。",  # names no place: the operator's pick routes it
    "complainant_name": "李明",
    "complainant_phone": "138 1234 5678",
    "action": "file",
}


@pytest.fixture
def token(app):
    return app.config["HOTLINE_TOKEN"]


@pytest.fixture
def announce(client, token):
    def do(payload=None, **headers):
        headers = headers or {"Authorization": f"Bearer {token}"}
        return client.post("/hotline/calls", json=payload or CALL, headers=headers)

    return do


@pytest.fixture
def operator(make_user):
    return make_user("lijing", role=Role.OPERATOR, county=None, kind=None)


@pytest.fixture
def on_call(announce, operator, login, client):
    """An operator logged in who has taken the announced call."""
    call_pk = announce().get_json()["id"]
    login(operator)
    assert client.post(f"/hotline/calls/{call_pk}/take").status_code == 200
    return call_pk


def calls() -> int:
    return db.session.scalar(sa.select(sa.func.count(Call.id)))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic bGk6cHc="},
    ],
)
def test_announcement_without_the_token_is_refused_and_nothing_stored(client, headers):
    resp = client.post("/hotline/calls", json=CALL, headers=headers)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert calls() == 0


def test_the_bare_token_without_bearer_is_refused(announce, token):
    assert announce(Authorization=token).status_code == 401
    assert calls() == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"caller": None}, "caller"),
        ({"call_id": ""}, "call_id"),
        ({"call_id": {"id": 1}}, "call_id"),
        ({"started_at": "昨天上午"}, "started_at"),
        ({"line": "x" * 40}, "line"),
    ],
)
def test_bad_fields_get_400_in_chinese(announce, change, field):
    resp = announce({**CALL, **change})
    assert resp.status_code == 400
    messages = resp.get_json()["errors"][field]
    assert messages and all(re.search(r"[\u4e00-\u9fff]", m) for m in messages)
    assert calls() == 0


def test_announcing_the_same_call_twice_stores_one_call(announce):
    first, second = announce(), announce()
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"] and calls() == 1
    call = db.session.scalar(sa.select(Call))
    assert call.caller == CALLER and call.status is CallStatus.RINGING and call.line == "12315-3"
    assert call.started_at.isoformat() == "2026-05-06T01:30:00+00:00"


def test_feed_shows_the_call_then_the_callers_earlier_cases_once_logged(client, announce, operator, login):
    earlier = client.post("/api/v1/cases", json=PHARMACY).get_json()["tracking_no"]
    other = client.post("/api/v1/cases", json={**PHARMACY, "complainant": {"name": "王红", "phone": "13900001111"}})
    call_pk = announce().get_json()["id"]
    login(operator)

    page = client.get("/hotline/").get_data(as_text=True)
    assert "110" in page and "119" in page and "120" in page and "话务台" in page
    feed = client.get("/hotline/feed")
    assert [c["caller_display"] for c in feed.get_json()["ringing"]] == ["138 1234 5678"]
    assert client.get("/hotline/feed", headers={"If-None-Match": feed.headers["ETag"]}).status_code == 304

    taken = client.post(f"/hotline/calls/{call_pk}/take").get_json()["current"]
    assert taken["caller"] == CALLER
    assert [c["tracking_no"] for c in taken["earlier"]] == [earlier]
    assert other.get_json()["tracking_no"] not in str(taken)
    current = client.get("/hotline/feed").get_json()
    assert current["ringing"] == [] and current["current"]["earlier"][0]["status_label"] == "已受理，待分派"
    looks = db.session.scalars(sa.select(PersonalDataAccess)).all()
    assert [(a.user_id, a.purpose) for a in looks] == [(operator.id, f"hotline_call:{call_pk}")]


def test_a_tip_whose_tipper_kept_their_identity_is_not_listed(client, on_call):
    client.post("/api/v1/cases", json={**PHARMACY, "kind": "tip"})
    assert client.get("/hotline/feed").get_json()["current"]["earlier"] == []


def _fresh(app, request, *args, **kwargs):
    """A request in its own app context: the test's context would carry one login into the next."""
    with app.app_context():
        return request(*args, **kwargs)


def test_two_operators_take_the_same_call_and_one_wins(app, announce, make_user):
    call_pk = announce().get_json()["id"]
    clients = []
    for name in ("op-a", "op-b"):
        make_user(name, role=Role.OPERATOR, county=None, kind=None)
        c = app.test_client()
        _fresh(app, c.post, "/login", data={"username": name, "password": "pw-" + name})
        clients.append(c)
    first, second = (_fresh(app, c.post, f"/hotline/calls/{call_pk}/take") for c in clients)
    assert (first.status_code, second.status_code) == (200, 409)
    assert "已被其他话务员接听" in second.get_json()["errors"]["call"][0]
    assert db.session.get(Call, call_pk).taken_by.username == "op-a"


def test_two_operators_clicking_at_once_in_threads_one_gets_it(app, announce, make_user):
    call_pk = announce().get_json()["id"]
    ids = [make_user(n, role=Role.OPERATOR, county=None, kind=None).id for n in ("op-a", "op-b")]
    start, results = threading.Barrier(2), []

    def click(user_id):
        with app.app_context():
            call, user = db.session.get(Call, call_pk), db.session.get(User, user_id)
            start.wait()
            try:
                transactional(services.take_call)(call, user)  # as the request's edge commits it
                results.append(user_id)
            except services.ActionError:
                results.append(None)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click, args=(i,)) for i in ids]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    winners = [r for r in results if r]
    assert len(results) == 2 and len(winners) == 1
    db.session.expire_all()
    assert db.session.get(Call, call_pk).taken_by_id == winners[0]


def test_filing_makes_a_hotline_case_routed_by_the_operators_township(client, on_call, run_jobs, operator):
    resp = client.post(f"/hotline/calls/{on_call}/file", data=FILING, follow_redirects=True)
    page = resp.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case))
    assert case.channel is Channel.HOTLINE and case.complainant_phone == CALLER
    assert case.events[0].actor_label == operator.display_name
    assert case.business_address.startswith("永嘉县瓯北街道") and case.industry_hint == "pharmacy"
    assert re.search(r'id="tracking-no" data-value="%s"' % case.tracking_no, page)
    assert (
        "".join(re.findall(r"<span>(\d+)</span>", page.split('id="tracking-no"')[1].split("</p>")[0]))
        == case.tracking_no
    )
    call = db.session.get(Call, on_call)
    assert call.status is CallStatus.FILED and call.case_id == case.id

    case_id = case.id  # the job's commit expires what the test holds, and its session ends
    run_jobs()
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.status is CaseStatus.DISPATCHED and case.township_code == "330324009"
    assert case.industry_code == "pharmacy" and case.lead_department.name == "永嘉县市场监督管理局"


def test_a_village_picked_under_the_township_is_kept(client, on_call, run_jobs):
    client.post(
        f"/hotline/calls/{on_call}/file", data={**FILING, "village": "罗浮社区", "village_code": "330324009013"}
    )
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.business_address.startswith("永嘉县瓯北街道罗浮社区") and case.village_code == "330324009013"


def test_a_village_of_another_township_is_refused(client, on_call):
    page = client.post(
        f"/hotline/calls/{on_call}/file", data={**FILING, "village": "城东社区", "village_code": "330324001001"}
    ).get_data(as_text=True)
    assert "下辖的村（社区）" in page and db.session.scalar(sa.select(Case)) is None


def test_a_second_submit_of_the_same_call_files_nothing_more(client, on_call):
    client.post(f"/hotline/calls/{on_call}/file", data=FILING)
    page = client.post(f"/hotline/calls/{on_call}/file", data=FILING, follow_redirects=True).get_data(as_text=True)
    assert "已经处理完毕" in page
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 1


def test_an_inquiry_answered_on_the_spot_is_closed_with_the_answer(client, on_call, run_jobs):
    MemoryBackend.sent.clear()
    answer = "药店卖过期药可向县市场监督管理局投诉，也可拨打12315。"
    client.post(
        f"/hotline/calls/{on_call}/file",
        data={
            **FILING,
            "kind": "inquiry",
            "description": "请问药店卖过期药应该找哪个部门？",
            "answer": answer,
            "action": "answer",
        },
    )
    run_jobs()  # the router finds the case closed and leaves it
    case = db.session.scalar(sa.select(Case))
    assert case.status is CaseStatus.CLOSED and case.closed_at is not None and case.reply_text == answer
    assert [(e.action, e.reason) for e in case.events][-1] == ("answer", answer)
    assert case.lead_department is None and not [c for c in case.clocks if c.stopped_at is None]
    assert [body for _, to, body in MemoryBackend.sent if "当场答复" in body and case.tracking_no in body]
    assert len(MemoryBackend.sent) == 1


def test_only_an_inquiry_can_be_answered_on_the_spot(client, on_call):
    page = client.post(
        f"/hotline/calls/{on_call}/file", data={**FILING, "answer": "已答复", "action": "answer"}
    ).get_data(as_text=True)
    assert "只有咨询可以当场答复办结" in page and db.session.scalar(sa.select(Case)) is None
    assert db.session.get(Call, on_call).status is CallStatus.TAKEN


def test_the_caller_gets_an_sms_receipt_with_number_and_code(client, on_call, run_jobs):
    MemoryBackend.sent.clear()
    page = client.post(f"/hotline/calls/{on_call}/file", data=FILING, follow_redirects=True).get_data(as_text=True)
    code = re.search(r'id="lookup-code" data-value="(\d{6})"', page).group(1)
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    sms = [(to, body) for channel, to, body in MemoryBackend.sent if channel == "sms"]
    assert [to for to, _ in sms] == [CALLER]
    assert case.tracking_no in sms[0][1] and code in sms[0][1]
    stored = db.session.scalar(sa.select(Message.body))
    assert case.tracking_no in stored and code not in stored  # the code is not kept in the clear


def test_a_landline_caller_gets_no_sms_and_the_operator_reads_the_number_back(client, on_call, run_jobs):
    MemoryBackend.sent.clear()
    filing = {**FILING, "complainant_phone": "0577 6712 3456"}
    page = client.post(f"/hotline/calls/{on_call}/file", data=filing, follow_redirects=True).get_data(as_text=True)
    assert 'id="landline-note"' in page and "固定电话" in page and 'id="lookup-code"' in page
    run_jobs()
    assert db.session.scalar(sa.select(Case)).complainant_phone == "+8657767123456"
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0 and MemoryBackend.sent == []


def test_an_anonymous_tip_by_phone_gets_no_sms_and_no_link_to_the_number(client, on_call, run_jobs):
    MemoryBackend.sent.clear()
    client.post(
        f"/hotline/calls/{on_call}/file",
        data={**FILING, "kind": "tip", "anonymous": "y", "complainant_name": "", "complainant_phone": ""},
    )
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.anonymous and case.complainant_phone == "" and MemoryBackend.sent == []
    call = db.session.get(Call, on_call)
    assert call.status is CallStatus.FILED and call.case_id is None


def test_a_call_can_be_ended_with_nothing_filed(client, on_call, announce):
    client.post(f"/hotline/calls/{on_call}/end")
    assert db.session.get(Call, on_call).status is CallStatus.ENDED
    second = announce({**CALL, "call_id": "pbx-0002"}).get_json()["id"]
    assert client.post(f"/hotline/calls/{second}/take").status_code == 200


def test_an_operator_on_a_call_cannot_take_another(client, on_call, announce):
    second = announce({**CALL, "call_id": "pbx-0002"}).get_json()["id"]
    assert client.post(f"/hotline/calls/{second}/take").status_code == 409


def test_another_operators_call_cannot_be_filed(app, on_call, make_user):
    make_user("op-b", role=Role.OPERATOR, county=None, kind=None)
    other = app.test_client()
    _fresh(app, other.post, "/login", data={"username": "op-b", "password": "pw-op-b"})
    assert _fresh(app, other.post, f"/hotline/calls/{on_call}/file", data=FILING).status_code == 404
    assert db.session.scalar(sa.select(Case)) is None


@pytest.mark.parametrize(
    "path, method",
    [
        ("/hotline/", "get"),
        ("/hotline/feed", "get"),
        ("/hotline/calls/1/take", "post"),
    ],
)
def test_staff_who_are_not_operators_get_403(client, make_user, login, path, method):
    login(make_user("yj-market"))
    assert getattr(client, method)(path).status_code == 403


def test_an_administrator_may_watch_the_console_but_not_take_calls(client, make_user, login, announce):
    call_pk = announce().get_json()["id"]
    login(make_user("admin", role=Role.ADMIN, county=None, kind=None))
    assert client.get("/hotline/").status_code == 200
    assert client.get("/hotline/feed").get_json()["may_take"] is False
    assert client.post(f"/hotline/calls/{call_pk}/take").status_code == 403


def test_a_township_and_village_typed_without_picking_are_resolved_by_the_place_search(client, on_call):
    client.post(
        f"/hotline/calls/{on_call}/file",
        data={**FILING, "township": "瓯北", "township_code": "", "village": "罗浮", "village_code": ""},
    )
    case = db.session.scalar(sa.select(Case))
    assert case.business_address.startswith("永嘉县瓯北街道罗浮社区")


def test_a_township_typed_that_matches_nothing_is_refused(client, on_call):
    page = client.post(
        f"/hotline/calls/{on_call}/file", data={**FILING, "township": "zzzzqqqq", "township_code": ""}
    ).get_data(as_text=True)
    assert "请从列表中选择乡镇（街道）" in page and db.session.scalar(sa.select(Case)) is None


def test_production_needs_the_hotline_token(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    for key in config.PRODUCTION_REQUIRED:
        monkeypatch.setenv(key, "set")
    monkeypatch.delenv("HOTLINE_TOKEN")
    with pytest.raises(config.ConfigError, match="HOTLINE_TOKEN"):
        config.load(str(tmp_path))
