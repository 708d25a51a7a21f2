"""The sending rules: quiet hours, the daily cap, TD opt-outs, secrets kept out of the database."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from rq import Retry

from intake.extensions import db
from intake.redis_conn import MESSAGES, get_queue, get_redis
from intake.types import utcnow
from notify import services
from notify.backends import MemoryBackend
from notify.models import Message, MessageStatus, SmsOptOut
from notify.services import opt_in, opt_out, queue_message, tell_citizen
from notify.tasks import send_message, sweep_unsent
from routing.calendar import TZ, to_local
from tests.notify.conftest import CITIZEN


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing time `day_offset` days from today: in the future, so scheduled jobs wait."""
    day = to_local(utcnow()).date() + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.fixture
def quiet_hours(app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_QUIET_HOURS", "21:00-08:00")


@pytest.fixture
def news(template):
    """A non-essential SMS: the kind TD stops and the daily cap holds back."""
    return template("test_news", "【十小投诉举报】案件{tracking_no}有新进展。", essential=False)


def sms_sent_to(phone: str) -> list[str]:
    return [body for channel, to, body in MemoryBackend.sent if channel == "sms" and to == phone]


# --- quiet hours -----------------------------------------------------------------------------------


def test_quiet_hours_defer_a_message_to_eight_and_an_urgent_one_goes_at_once(
    app, quiet_hours, case, event, drain, monkeypatch
):
    evening = local(1, 22, 30)
    held = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…", now=evening)
    urgent = queue_message(
        case, "sms", CITIZEN, "case_merged", event(), master_no="2611220765432", urgent=True, now=evening
    )
    db.session.commit()
    held_id, held_until, urgent_id = held.id, held.not_before, urgent.id
    assert held_until == local(2, 8) and urgent.not_before is None
    queue = get_queue(app, MESSAGES)
    assert queue.scheduled_job_registry.get_scheduled_time(f"send-message-{held_id}") == held_until

    drain()
    assert db.session.get(Message, urgent_id).status is MessageStatus.SENT
    assert db.session.get(Message, held_id).status is MessageStatus.QUEUED
    assert len(sms_sent_to(CITIZEN)) == 1 and "并入" in sms_sent_to(CITIZEN)[0]

    monkeypatch.setattr("notify.tasks.utcnow", lambda: local(2, 8, 0))
    drain(fast_forward=True)  # eight o'clock
    assert db.session.get(Message, held_id).status is MessageStatus.SENT
    assert len(sms_sent_to(CITIZEN)) == 2


@pytest.mark.parametrize(
    "hour, minute, held_to",
    [(21, 0, (1, 8)), (23, 59, (1, 8)), (0, 30, (0, 8)), (7, 59, (0, 8)), (8, 0, None), (20, 59, None)],
)
def test_the_edges_of_quiet_hours(app, quiet_hours, hour, minute, held_to):
    until = services.quiet_until(local(3, hour, minute))
    assert until == (local(3 + held_to[0], held_to[1]) if held_to else None)


def test_mail_is_not_held_and_no_quiet_hours_means_none(app, monkeypatch, quiet_hours, case, event):
    mail = queue_message(case, "mail", "staff@example.test", "case_accepted", event(), due="…", now=local(1, 23))
    assert mail.not_before is None
    monkeypatch.setitem(app.config, "NOTIFY_QUIET_HOURS", "")
    assert queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…", now=local(1, 23)).not_before is None


def test_a_job_that_runs_in_quiet_hours_puts_itself_off(app, quiet_hours, case, event):
    message = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…", now=local(1, 20))
    db.session.commit()
    message_id = message.id
    assert message.not_before is None

    result = send_message(message_id, now=local(1, 21, 30))  # the worker got to it late
    assert isinstance(result, Retry) and result.intervals == [10 * 3600 + 30 * 60 + 1]
    row = db.session.get(Message, message_id)
    assert (row.status, row.attempts, row.not_before) == (MessageStatus.QUEUED, 0, local(2, 8))
    assert MemoryBackend.sent == []

    assert send_message(message_id, now=local(2, 8, 1)) == "sent"
    assert len(sms_sent_to(CITIZEN)) == 1


# --- the daily cap and TD ------------------------------------------------------------------------


def test_the_daily_cap_suppresses_the_next_non_essential_sms_but_not_an_essential_one(app, case, event, news):
    morning = local(1, 9)
    cap = app.config["NOTIFY_SMS_DAILY_CAP"]
    assert cap == 5
    first = [queue_message(case, "sms", CITIZEN, news, event(), now=morning) for _ in range(cap)]
    assert {m.status for m in first} == {MessageStatus.QUEUED}

    over = queue_message(case, "sms", CITIZEN, news, event(), now=morning + timedelta(hours=3))
    assert over.status is MessageStatus.SUPPRESSED and "上限" in over.last_error
    essential = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…", now=morning)
    assert essential.status is MessageStatus.QUEUED and essential.essential

    other_number = queue_message(case, "sms", "+8613900002222", news, event(), now=morning)
    next_day = queue_message(case, "sms", CITIZEN, news, event(), now=local(2, 9))
    assert other_number.status is next_day.status is MessageStatus.QUEUED


def test_a_suppressed_message_is_never_sent(app, case, event, news, drain, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SMS_DAILY_CAP", 0)
    message_id = queue_message(case, "sms", CITIZEN, news, event()).id
    db.session.commit()
    drain()
    assert MemoryBackend.sent == [] and send_message(message_id) == "skipped"
    assert db.session.get(Message, message_id).attempts == 0


def test_td_stops_non_essential_sms_only_until_the_number_opts_in(app, case, event, news):
    assert opt_out("139 0000 1111") is True  # the webhook may pass it as the gateway wrote it
    assert opt_out(CITIZEN) is False
    assert db.session.get(SmsOptOut, CITIZEN) is not None

    stopped = queue_message(case, "sms", CITIZEN, news, event())
    assert stopped.status is MessageStatus.SUPPRESSED and "TD" in stopped.last_error
    essential = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…")
    assert essential.status is MessageStatus.QUEUED
    mail = queue_message(case, "mail", "zhang@example.test", news, event())
    assert mail.status is MessageStatus.QUEUED

    assert opt_in(CITIZEN) is True and opt_in(CITIZEN) is False
    assert queue_message(case, "sms", CITIZEN, news, event()).status is MessageStatus.QUEUED


def test_one_message_per_case_event_and_recipient(case, event):
    happened = event()
    first = queue_message(case, "sms", CITIZEN, "case_accepted", happened, due="…")
    again = queue_message(case, "sms", CITIZEN, "case_accepted", happened, due="…")
    assert again is first
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1


# --- secrets ---------------------------------------------------------------------------------------


@pytest.fixture
def receipt(template):
    return template("test_receipt", "【十小投诉举报】已登记，受理编号{tracking_no}，查询码{lookup_code}，请妥善保存。")


def test_the_lookup_code_reaches_the_phone_but_the_database_holds_it_only_sealed(app, case, event, receipt, drain):
    message = tell_citizen(case, receipt, event(), urgent=True, secret={"lookup_code": "654321"})
    db.session.commit()
    message_id = message.id
    assert "查询码******，" in message.body and "654321" not in message.body
    queued = db.session.execute(sa.text("SELECT * FROM message")).one()
    assert not any("654321" in str(value) for value in queued)  # sealed, not written out
    assert message.sealed_secret

    drain()
    assert len(sms_sent_to(CITIZEN)) == 1 and "查询码654321，" in sms_sent_to(CITIZEN)[0]
    row = db.session.get(Message, message_id)
    assert row.status is MessageStatus.SENT and row.sealed_secret is None  # sent: not kept


def test_a_lost_job_is_re_created_by_the_sweep_with_the_code(app, case, event, receipt, drain, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SWEEP_GRACE", 60)
    tell_citizen(case, receipt, event(), urgent=True, secret={"lookup_code": "654321"})
    db.session.commit()
    assert sweep_unsent(now=utcnow() + timedelta(minutes=5)) == 0  # its job is waiting: left alone
    assert sweep_unsent() == 0  # too young anyway

    get_redis(app).flushdb()  # Redis lost the job
    assert sweep_unsent() == 0
    assert sweep_unsent(now=utcnow() + timedelta(minutes=5)) == 1
    assert sweep_unsent(now=utcnow() + timedelta(minutes=5)) == 0  # enqueued once
    drain()
    assert len(sms_sent_to(CITIZEN)) == 1 and "查询码654321，" in sms_sent_to(CITIZEN)[0]  # never ******
    assert sweep_unsent(now=utcnow() + timedelta(minutes=5)) == 0  # sent: nothing to do


def test_a_code_no_key_opens_is_not_sent_masked(app, case, event, receipt, drain, monkeypatch):
    message_id = tell_citizen(case, receipt, event(), urgent=True, secret={"lookup_code": "654321"}).id
    db.session.commit()
    monkeypatch.setitem(app.config, "MESSAGE_SECRET_KEY", "a-key-that-did-not-seal-it")
    drain()
    assert sms_sent_to(CITIZEN) == []  # no SMS rather than one with ******
    row = db.session.get(Message, message_id)
    assert row.status is MessageStatus.FAILED and "could not be recovered" in row.last_error


def test_an_old_key_still_opens_its_seals(app, case, event, receipt, drain, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_SECRET_KEY", "the-old-key")
    tell_citizen(case, receipt, event(), urgent=True, secret={"lookup_code": "654321"})
    db.session.commit()
    monkeypatch.setitem(app.config, "MESSAGE_SECRET_KEY", "the-new-key")
    monkeypatch.setitem(app.config, "MESSAGE_SECRET_OLD_KEYS", "the-old-key")
    drain()
    assert "查询码654321，" in sms_sent_to(CITIZEN)[0]


def test_a_job_that_died_is_requeued_by_the_sweep_with_its_secret(app, case, event, receipt, drain):
    from rq.job import JobStatus

    message_id = tell_citizen(case, receipt, event(), secret={"lookup_code": "654321"}).id
    db.session.commit()
    queue = get_queue(app, MESSAGES)
    job = queue.fetch_job(f"send-message-{message_id}")
    queue.remove(job)  # as if its work horse was killed and RQ gave up on it
    job.set_status(JobStatus.FAILED)
    queue.failed_job_registry.add(job, exc_string="work horse killed")

    assert sweep_unsent(now=utcnow() + timedelta(minutes=10)) == 1
    drain()
    assert len(sms_sent_to(CITIZEN)) == 1 and "查询码654321，" in sms_sent_to(CITIZEN)[0]
    assert db.session.get(Message, message_id).status is MessageStatus.SENT


def test_the_sweep_waits_for_a_held_message(app, quiet_hours, case, event):
    message_id = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="…", now=local(1, 22)).id
    db.session.commit()
    get_redis(app).flushdb()
    assert sweep_unsent(now=local(1, 23)) == 0
    assert sweep_unsent(now=local(2, 8, 30)) == 1
    assert db.session.get(Message, message_id).status is MessageStatus.QUEUED


@pytest.mark.parametrize(
    "overrides",
    [
        {"NOTIFY_QUIET_HOURS": "21-8"},
        {"NOTIFY_QUIET_HOURS": "21:00"},
        {"NOTIFY_SMS_BACKEND": "http", "NOTIFY_SMS_HTTP_URL": ""},
    ],
)
def test_settings_the_sending_rules_cannot_use_are_refused_at_start(tmp_path, overrides):
    from intake.config import ConfigError, load

    with pytest.raises(ConfigError, match=next(iter(overrides))):
        load(str(tmp_path), overrides)
