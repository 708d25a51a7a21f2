"""The receipt SMS of a web or API filing: made by a job from what the filing sealed on the case."""

import logging
from datetime import timedelta

import sqlalchemy as sa

from intake.cases.models import Case
from intake.extensions import db
from intake.redis_conn import MESSAGES, get_queue, get_redis
from intake.types import utcnow
from notify.backends import MemoryBackend
from notify.models import Message, MessageStatus
from notify.tasks import send_receipt, sweep_unsent
from tests.intake.test_api import PHARMACY

PHONE = "+8613812345678"


def receipts_to(phone: str, tracking_no: str) -> list[str]:
    return [
        body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone and tracking_no in body
    ]


def test_the_filing_seals_the_receipt_on_the_case_and_the_job_sends_it_with_the_code(client, run_jobs):
    resp = client.post("/api/v1/cases", json=PHARMACY).get_json()
    code = resp["lookup_code"]
    row = db.session.execute(sa.text('SELECT * FROM "case"')).one()
    assert not any(code in str(value) for value in row)  # sealed on the case, not written out
    assert db.session.scalar(sa.select(Case.sealed_receipt))
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0  # the request made no message
    assert get_queue(client.application, MESSAGES).get_job_ids() == [f"receipt-case-{resp_case_id()}"]

    MemoryBackend.sent.clear()
    run_jobs()
    sent = receipts_to(PHONE, resp["tracking_no"])
    assert len(sent) == 1 and f"查询码{code}" in sent[0]
    assert db.session.scalar(sa.select(Case.sealed_receipt)) is None  # made: the case no longer holds it
    message = db.session.scalar(sa.select(Message).where(Message.template == "web_receipt"))
    assert message.status is MessageStatus.SENT and code not in message.body and message.sealed_secret is None


def resp_case_id() -> int:
    return db.session.scalar(sa.select(Case.id))


def test_a_receipt_job_lost_with_redis_is_made_again_by_the_sweep_once(app, client, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SWEEP_GRACE", 60)
    resp = client.post("/api/v1/cases", json=PHARMACY).get_json()
    later = utcnow() + timedelta(minutes=5)
    assert sweep_unsent(now=later) == 0  # its job is still queued: left alone
    get_redis(app).flushdb()  # Redis lost the routing and the receipt jobs
    assert sweep_unsent() == 0  # too young
    assert sweep_unsent(now=later) == 1
    assert sweep_unsent(now=later) == 0  # enqueued once

    MemoryBackend.sent.clear()
    run_jobs()
    sent = receipts_to(PHONE, resp["tracking_no"])
    assert len(sent) == 1 and f"查询码{resp['lookup_code']}" in sent[0]  # the code, never ******
    assert sweep_unsent(now=later) == 0


def test_a_second_run_of_the_receipt_job_sends_nothing_more(app, client, run_jobs):
    resp = client.post("/api/v1/cases", json=PHARMACY).get_json()
    case_id = resp_case_id()
    MemoryBackend.sent.clear()
    run_jobs()
    assert send_receipt(case_id) == "skipped"
    run_jobs()
    assert len(receipts_to(PHONE, resp["tracking_no"])) == 1
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.template == "web_receipt")) == 1


def test_a_receipt_no_key_opens_is_not_sent_masked_and_says_so_in_the_log(app, client, run_jobs, monkeypatch, caplog):
    resp = client.post("/api/v1/cases", json=PHARMACY).get_json()
    monkeypatch.setitem(app.config, "MESSAGE_SECRET_KEY", "a-key-that-did-not-seal-it")
    MemoryBackend.sent.clear()
    with caplog.at_level(logging.ERROR, logger="notify.tasks"):
        run_jobs()
    assert receipts_to(PHONE, resp["tracking_no"]) == []  # no SMS rather than one with ******
    assert all("******" not in body for _, _, body in MemoryBackend.sent)
    assert "receipt could not be recovered" in caplog.text
    assert db.session.scalar(sa.select(Case.sealed_receipt)) is None  # not tried again and again


def test_an_anonymous_tip_and_a_landline_get_no_receipt_job(app, client):
    tip = {**PHARMACY, "kind": "tip", "anonymous": True, "complainant": {}}
    assert client.post("/api/v1/cases", json=tip).status_code == 201
    landline = {**PHARMACY, "complainant": {"name": "李明", "phone": "0577-67223456"}}
    assert client.post("/api/v1/cases", json=landline).status_code == 201
    anonymous_id, landline_id = db.session.scalars(sa.select(Case.id).order_by(Case.id)).all()
    jobs = get_queue(app, MESSAGES).get_job_ids()
    assert f"receipt-case-{anonymous_id}" not in jobs  # nothing to send to, nothing sealed
    assert db.session.get(Case, anonymous_id).sealed_receipt is None
    # a landline cannot get an SMS: its job finds so and sends nothing (the case stays the same)
    assert send_receipt(landline_id) == "none"
    assert db.session.get(Case, landline_id).sealed_receipt is None
