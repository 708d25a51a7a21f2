"""Nobody can make the system bomb a phone: SMS that the web form, the API and the SMS channel
trigger stop at NOTIFY_RECIPIENT_DAILY_CAP a number a day; the cases are still stored and answered."""

import pytest
import sqlalchemy as sa

from intake.cases.models import Case
from intake.extensions import db
from notify.backends import MemoryBackend
from notify.models import Message, MessageStatus
from tests.intake.test_api import PHARMACY
from tests.intake.test_web_form import GOOD

VICTIM = "+8613812345678"  # PHARMACY's complainant phone


@pytest.fixture(autouse=True)
def empty_outbox():
    MemoryBackend.sent.clear()


def sms_to(phone: str) -> list[str]:
    return [body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone]


def test_no_thirteenth_receipt_sms_to_one_number_in_a_day_from_the_api(client, app, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_RECIPIENT_DAILY_CAP", 12)
    answers = [client.post("/api/v1/cases", json=PHARMACY) for _ in range(13)]
    assert [a.status_code for a in answers] == [201] * 13
    last = answers[-1].get_json()
    assert len(last["tracking_no"]) == 13 and len(last["lookup_code"]) == 6  # the answer still says both
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 13
    run_jobs()
    assert len(sms_to(VICTIM)) == 12
    suppressed = db.session.scalars(sa.select(Message).filter_by(status=MessageStatus.SUPPRESSED)).all()
    assert len(suppressed) == 1 and suppressed[0].template == "web_receipt"
    assert db.session.get(Case, suppressed[0].case_id).tracking_no == last["tracking_no"]
    assert "12 条" in suppressed[0].last_error


def test_the_cap_counts_web_form_receipts_too(client, app, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_RECIPIENT_DAILY_CAP", 2)
    for _ in range(3):
        resp = client.post("/", data=GOOD, follow_redirects=True)
        assert resp.status_code == 200 and "查询码" in resp.get_data(as_text=True)
    run_jobs()
    assert len(sms_to("+8613912345678")) == 2
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 3


def test_sms_replies_are_capped_per_sender(client, app, run_jobs, monkeypatch):
    from tests.intake.test_sms import SECRET, payload, post

    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setitem(app.config, "NOTIFY_RECIPIENT_DAILY_CAP", 2)
    for _ in range(3):
        assert post(client, payload("帮助")).get_json()["status"] == "help"
    run_jobs()
    assert len(sms_to(VICTIM)) == 2
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).filter_by(status=MessageStatus.SUPPRESSED)) == 1
