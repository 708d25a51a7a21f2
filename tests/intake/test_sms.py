"""SMS in: a signed gateway message becomes a routed case and a reply; replays, forgeries and
oversized bodies change nothing; commands 查询, 1/2/3 and TD; long messages joined; follow-ups."""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.callbacks.models import Answer, Callback
from intake.cases.models import Case, CaseEvent, CaseKind, CaseStatus, Channel
from intake.cases.services import find_case
from intake.extensions import db
from intake.sms.models import InboundSms
from intake.sms.services import join_parts
from intake.types import utcnow
from notify.backends import MemoryBackend
from notify.models import Message, MessageStatus, SmsOptOut
from tests.factories import CallbackFactory

SECRET = "test-sms-secret"
PHONE = "+8613812345678"
OTHER_PHONE = "+8613900001111"
PHARMACY = "永嘉县瓯北街道好日子大药房卖过期感冒药，店员不肯退换。"
NO_PLACE = "买的感冒药过期了，店员不肯退换。"
PLACE = "瓯北街道罗浮大街88号好日子大药房"


@pytest.fixture(autouse=True)
def webhook(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", SECRET)
    MemoryBackend.sent.clear()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(text: str, sender: str = "13812345678", message_id: str | None = None, **extra) -> bytes:
    message = {
        "message_id": message_id or uuid.uuid4().hex,
        "from": sender,
        "to": "12315",
        "text": text,
        "received_at": "2026-11-23T10:15:00+08:00",
        **extra,
    }
    return json.dumps(message, ensure_ascii=False).encode()


def post(client, body: bytes, signature: str | None = None):
    headers = {"X-Signature": sign(body) if signature is None else signature}
    return client.post("/sms/inbound", data=body, content_type="application/json", headers=headers)


def sms(client, text: str, **kw) -> str:
    resp = post(client, payload(text, **kw))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["status"]


def texts_to(phone: str = PHONE) -> list[str]:
    return [body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone]


def the_case() -> Case:
    db.session.expire_all()
    return db.session.scalar(sa.select(Case))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_signed_sms_becomes_a_routed_case_and_the_sender_gets_number_and_code(client, run_jobs):
    assert sms(client, PHARMACY, sender="+86 138 1234 5678") == "new_case"
    case = the_case()
    assert (case.channel, case.kind, case.complainant_phone, case.complainant_name) == (
        Channel.SMS,
        CaseKind.COMPLAINT,
        PHONE,
        "",
    )
    assert case.details_requested_at is None
    inbound = db.session.scalar(sa.select(InboundSms))
    assert (inbound.sender, inbound.case_id, inbound.outcome) == (PHONE, case.id, "new_case")

    run_jobs()
    case = the_case()
    assert case.status is CaseStatus.DISPATCHED
    assert (case.industry_code, case.township_code) == ("pharmacy", "330324009")
    [receipt] = texts_to()
    assert case.tracking_no in receipt
    code = receipt.split("查询码")[1][:6]
    assert find_case(case.tracking_no, code) is case
    stored = db.session.scalar(sa.select(Message.body).filter_by(template="sms_receipt"))
    assert case.tracking_no in stored and code not in stored  # the code reaches the phone only


def test_a_number_without_plus_from_the_gateway_is_parsed(client):
    sms(client, PHARMACY, sender="8613812345678")
    assert the_case().complainant_phone == PHONE


@pytest.mark.parametrize(
    "text, kind",
    [
        ("举报永嘉县桥头镇一家小作坊用地沟油炸油条。", CaseKind.TIP),
        ("咨询一下永嘉县瓯北街道开小餐馆要办什么证？", CaseKind.INQUIRY),
        ("建议瓯北街道的菜场早上多安排保洁。", CaseKind.SUGGESTION),
    ],
)
def test_the_words_举报_咨询_建议_decide_the_kind(client, text, kind):
    sms(client, text)
    assert the_case().kind is kind


def test_a_replayed_message_id_changes_nothing_and_sends_nothing(client, run_jobs):
    body = payload(PHARMACY, message_id="gw-1")
    assert post(client, body).get_json() == {"status": "new_case"}
    run_jobs()
    assert post(client, body).get_json() == {"status": "duplicate"}
    run_jobs()
    assert count(Case) == 1 and count(InboundSms) == 1
    assert len(texts_to()) == 1 and count(Message) == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0" * 64,
        sign(b"another body"),
        sign(payload(PHARMACY, message_id="gw-2"), secret="not-the-secret"),
        "不是签名",
    ],
)
def test_a_bad_or_missing_signature_gets_401_and_stores_nothing(client, run_jobs, signature):
    resp = post(client, payload(PHARMACY, message_id="gw-2"), signature=signature)
    assert resp.status_code == 401 and resp.get_json()["errors"]["signature"]
    run_jobs()
    assert count(InboundSms) == count(Case) == count(Message) == 0 and texts_to() == []


def test_no_header_at_all_gets_401(client):
    resp = client.post("/sms/inbound", data=payload(PHARMACY), content_type="application/json")
    assert resp.status_code == 401 and count(InboundSms) == 0


def test_an_oversized_body_gets_413_and_stores_nothing(client, app):
    body = payload(PHARMACY + "药" * app.config["SMS_MAX_BODY"])
    resp = post(client, body)
    assert resp.status_code == 413 and "太长" in resp.get_json()["errors"]["body"][0]
    assert count(InboundSms) == count(Case) == 0


@pytest.mark.parametrize(
    "body, field, words",
    [
        (b"{not json", "body", "JSON"),
        (b"[1, 2]", "body", "JSON 对象"),
        (json.dumps({"from": "13812345678", "text": "x"}).encode(), "message_id", "缺少"),
        (payload("你好", part_no=3, part_count=2), "part_no", "不能大于"),
        (payload("你好", part_count=2), "concat_ref", "分段"),
        (payload("你好", received_at="昨天"), "received_at", "ISO 8601"),
        (payload("药房\x00卖过期药"), "text", "空字符"),
        (b'{"message_id": "gw-s", "from": "13812345678", "text": "\\ud800"}', "text", "代理字符"),
        (b'{"message_id": "gw-u", "from": "13812345678", "text": "\xff\xfe"}', "body", "UTF-8"),
        (b'{"a":' * 500 + b"1" + b"}" * 500, "body", "嵌套"),
        (payload("你好", sender="138\x0012345678"), "from", "空字符"),
    ],
)
def test_a_signed_body_we_cannot_read_is_stored_as_unreadable_and_answered_200(client, body, field, words):
    """A 4xx would have the gateway redeliver the same bytes forever: 200, the reason, one row for staff."""
    resp = post(client, body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["status"] == "unreadable"
    assert words in resp.get_json()["errors"][field][0]
    assert post(client, body).status_code == 200  # the gateway's redelivery stores nothing new
    rows = db.session.scalars(sa.select(InboundSms)).all()
    assert [r.outcome for r in rows] == ["unreadable"] and words in rows[0].text
    assert "\x00" not in rows[0].text and count(Case) == 0 and texts_to() == []


def test_a_forged_unreadable_body_is_still_401_and_stores_nothing(client):
    body = b'{"message_id": "gw-f", "text": "\\u0000"}'
    assert post(client, body, signature=sign(body, "wrong")).status_code == 401
    assert count(InboundSms) == 0


def test_the_webhook_needs_no_csrf_token(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert sms(client, PHARMACY) == "new_case"


def test_查询_answers_with_the_status_of_the_senders_own_case(client, run_jobs):
    sms(client, PHARMACY)
    run_jobs()
    tracking_no = the_case().tracking_no
    MemoryBackend.sent.clear()
    assert sms(client, f"查询 {tracking_no}") == "query"
    assert sms(client, f"查询：{tracking_no}") == "query"
    run_jobs()
    assert len(texts_to()) == 2
    assert all(tracking_no in t and "已转交承办部门，待签收" in t for t in texts_to())


def test_查询_of_someone_elses_case_reads_exactly_like_a_number_that_does_not_exist(client, run_jobs):
    sms(client, PHARMACY)
    run_jobs()
    tracking_no = the_case().tracking_no
    sms(client, f"查询 {tracking_no}", sender=OTHER_PHONE)
    sms(client, "查询 2601010000000", sender=OTHER_PHONE)
    run_jobs()
    theirs, unknown = texts_to(OTHER_PHONE)
    assert theirs.replace(tracking_no, "N") == unknown.replace("2601010000000", "N")
    assert "已派单" not in theirs


def test_a_two_part_message_is_joined_in_order_and_handled_once(client, run_jobs):
    first, second = PHARMACY[:12], PHARMACY[12:]
    part = dict(concat_ref="7f", part_count=2)
    body2 = payload(second, message_id="gw-p2", part_no=2, **part)
    assert post(client, body2).get_json() == {"status": "part"}
    assert count(Case) == 0
    assert sms(client, first, message_id="gw-p1", part_no=1, **part) == "new_case"
    assert post(client, body2).get_json() == {"status": "duplicate"}
    assert the_case().description == PHARMACY
    rows = db.session.scalars(sa.select(InboundSms).order_by(InboundSms.part_no)).all()
    assert [r.case_id for r in rows] == [the_case().id] * 2
    assert join_parts(rows[1]) is None  # a racing request finds the parts claimed
    run_jobs()
    assert count(Case) == 1 and len(texts_to()) == 1 and the_case().status is CaseStatus.DISPATCHED


def test_a_long_message_whose_handling_failed_is_handled_when_the_gateway_retries_a_part(client, monkeypatch):
    import intake.sms.services as services

    part = dict(concat_ref="7f", part_count=2)
    sms(client, PHARMACY[:12], message_id="gw-p1", part_no=1, **part)
    body2 = payload(PHARMACY[12:], message_id="gw-p2", part_no=2, **part)

    def fails(*args):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as m:
        m.setattr(services, "open_case", fails)
        with pytest.raises(RuntimeError):
            post(client, body2)
    db.session.rollback()
    assert count(Case) == 0
    assert post(client, body2).get_json() == {"status": "new_case"}
    assert the_case().description == PHARMACY


def test_parts_of_different_senders_are_not_mixed(client):
    part = dict(concat_ref="7f", part_count=2)
    assert sms(client, PHARMACY[:12], part_no=1, **part) == "part"
    assert sms(client, PHARMACY[12:], sender=OTHER_PHONE, part_no=2, **part) == "part"
    assert count(Case) == 0


def test_a_message_without_place_asks_for_it_and_the_answer_is_added_and_routed(client, run_jobs):
    assert sms(client, NO_PLACE) == "new_case"
    case = the_case()
    assert case.details_requested_at is not None and case.status is CaseStatus.RECEIVED

    assert sms(client, PLACE) == "added"  # arrives before a worker routed the case
    case = the_case()
    assert count(Case) == 1
    assert case.description == f"{NO_PLACE}\n{PLACE}" and case.details_requested_at is None
    assert db.session.scalar(sa.select(CaseEvent.reason).filter_by(action="details_added")).endswith(PLACE)
    run_jobs()
    case = the_case()
    assert case.status is CaseStatus.DISPATCHED and case.township_code == "330324009"
    receipt, ask, added = texts_to()
    assert "查询码" in receipt and "店名" in ask and case.tracking_no in added


def test_details_for_a_case_the_machine_put_in_triage_send_it_back_to_the_machine(client, run_jobs):
    sms(client, NO_PLACE)
    run_jobs()
    assert the_case().status is CaseStatus.TRIAGE
    assert sms(client, PLACE) == "added"
    run_jobs()
    case = the_case()
    assert case.status is CaseStatus.DISPATCHED and case.township_code == "330324009"
    assert case.running_clock("triage") is None
    assert [e.action for e in case.events].count("reroute") == 1
    assert count(Case) == 1


def test_a_message_more_than_24_hours_after_the_question_is_a_new_case(client):
    sms(client, NO_PLACE)
    case = the_case()
    case.details_requested_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert sms(client, PHARMACY) == "new_case"
    assert count(Case) == 2


def test_commands_are_not_taken_as_the_missing_details(client, run_jobs):
    sms(client, NO_PLACE)
    tracking_no = the_case().tracking_no
    assert sms(client, f"查询 {tracking_no}") == "query"
    assert the_case().details_requested_at is not None


def test_a_digit_answers_the_waiting_survey(client):
    sms(client, PHARMACY)
    case = the_case()
    case.status = CaseStatus.REPLIED
    CallbackFactory(case=case)
    db.session.commit()
    assert sms(client, "１") == "survey"  # a full-width digit counts too
    assert db.session.scalar(sa.select(Callback.answer)) is Answer.SATISFIED
    assert the_case().status is CaseStatus.CLOSED


def test_a_digit_with_no_survey_waiting_gets_the_help_reply(client, run_jobs):
    assert sms(client, "2") == "help"
    run_jobs()
    assert "查询" in texts_to()[0] and count(Case) == 0


def test_td_stops_non_essential_messages_and_confirms(client, run_jobs):
    assert sms(client, "td") == "opt_out"
    assert db.session.get(SmsOptOut, PHONE) is not None
    assert sms(client, "?") == "help"  # the help reply is not essential
    run_jobs()
    [confirmation] = texts_to()
    assert "退订" in confirmation
    assert db.session.scalar(sa.select(Message.status).filter_by(template="sms_help")) is MessageStatus.SUPPRESSED


@pytest.mark.parametrize("text", ["4", "?", "ok", "你好"])
def test_unknown_commands_and_too_little_to_go_on_get_the_help_reply(client, run_jobs, text):
    assert sms(client, text) == "help"
    run_jobs()
    assert count(Case) == 0 and "回复TD退订" in texts_to()[0]


def test_an_emergency_is_urgent_and_the_reply_says_call_119(client, run_jobs):
    sms(client, "永嘉县瓯北街道罗浮大街一家液化气店漏气了，味道很大。")
    assert the_case().urgent
    run_jobs()
    assert any("119" in t for t in texts_to())


def test_a_sender_that_is_not_a_phone_number_is_kept_and_not_answered(client, run_jobs):
    assert sms(client, PHARMACY, sender="SHOP") == "ignored"
    run_jobs()
    assert count(InboundSms) == 1 and count(Case) == 0 and MemoryBackend.sent == []


def test_a_long_message_whose_last_part_was_lost_is_handled_with_what_came(client, run_jobs):
    from intake.sms.tasks import sweep_lost_parts

    part = dict(concat_ref="9a", part_count=3)
    assert sms(client, PHARMACY[:14], part_no=1, **part) == "part"
    assert sms(client, PHARMACY[14:], part_no=2, **part) == "part"
    assert sweep_lost_parts(now=utcnow()) == 0  # the third part may still come
    later = utcnow() + timedelta(minutes=11)
    assert sweep_lost_parts(now=later) == 1
    assert sweep_lost_parts(now=later) == 0
    case = the_case()
    assert case.description == PHARMACY and count(Case) == 1


def test_a_number_opening_too_many_cases_in_a_day_is_told_to_call_and_nothing_is_lost(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_DAILY_CASES", 2)
    assert sms(client, PHARMACY) == "new_case"
    assert sms(client, "永嘉县桥头镇老街面馆后厨很脏，剩菜反复加热再卖。") == "new_case"
    assert sms(client, "永嘉县瓯北街道一家理发店办卡后关门跑路了，钱退不回来。") == "limited"
    assert count(Case) == 2
    assert db.session.scalar(sa.select(sa.func.count(InboundSms.id)).filter_by(outcome="limited")) == 1
    assert sms(client, "永嘉县瓯北街道有家店煤气泄漏了，味道很大。") == "new_case"  # an emergency still goes through
