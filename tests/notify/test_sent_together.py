"""Messages made together about one event (a dispatch's SMS and mail to the duty staff) go out in
one send job, each once; one the gateway refuses goes on alone with the tries it has left; the
sweep leaves them be while their job waits, and sends them one by one once it is gone."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.cases.workflow import record
from intake.extensions import db
from intake.redis_conn import MESSAGES, get_queue, get_redis
from intake.types import utcnow
from notify.backends import MemoryBackend
from notify.models import Message, MessageStatus
from notify.services import tell_staff
from notify.tasks import sweep_unsent
from tests.factories import CaseFactory, UserFactory

DEPT_PHONE, TOWN_PHONE = "+8613911110001", "+8613911110002"


@pytest.fixture
def dispatched(app):
    case = CaseFactory(dispatched=True)
    UserFactory(phone=DEPT_PHONE, email="dept@example.com", department=case.lead_department)
    UserFactory(township=True, phone=TOWN_PHONE, email="town@example.com")
    return case


def _tell(case) -> list[int]:
    messages = tell_staff(case, "case_dispatched", record(case, "note", "测试"), due="12月7日 17:00")
    db.session.commit()
    return [m.id for m in messages]


def _rows(ids) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Message).where(Message.id.in_(ids)).order_by(Message.id)))


def test_the_duty_staffs_sms_and_mail_go_in_one_job_and_each_once(app, dispatched, drain):
    ids = _tell(dispatched)
    assert len(ids) == 4
    queue = get_queue(app, MESSAGES)
    assert len(queue.get_job_ids()) == 1 and queue.get_job_ids()[0].startswith("send-together-")
    drain()
    assert sorted((channel, to) for channel, to, _text in MemoryBackend.sent) == [
        ("mail", "dept@example.com"),
        ("mail", "town@example.com"),
        ("sms", DEPT_PHONE),
        ("sms", TOWN_PHONE),
    ]
    assert all(m.status is MessageStatus.SENT and m.attempts == 1 for m in _rows(ids))

    queue.enqueue("notify.tasks.send_messages", ids)  # the same job again (a rerun): nothing twice
    drain()
    assert len(MemoryBackend.sent) == 4


def test_one_the_gateway_refuses_goes_on_alone_and_is_sent_at_its_retry(app, dispatched, drain, monkeypatch):
    real_send, refused = MemoryBackend.send, []

    def busy_once_for_the_township(self, message, text):
        if message.recipient == TOWN_PHONE and not refused:
            refused.append(message.id)
            raise ConnectionError("gateway busy")
        return real_send(self, message, text)

    monkeypatch.setattr(MemoryBackend, "send", busy_once_for_the_township)
    ids = _tell(dispatched)
    drain()  # the other three go at once; the refused one waits for its first retry interval
    assert len(MemoryBackend.sent) == 3 and TOWN_PHONE not in [to for _c, to, _t in MemoryBackend.sent]
    waiting = db.session.get(Message, refused[0])
    assert waiting.status is MessageStatus.QUEUED and "gateway busy" in waiting.last_error
    assert get_queue(app, MESSAGES).scheduled_job_registry.get_job_ids() == [f"send-message-{refused[0]}"]

    drain(fast_forward=True)
    assert [to for _c, to, _t in MemoryBackend.sent].count(TOWN_PHONE) == 1
    assert {m.id: (m.status, m.attempts) for m in _rows(ids)}[refused[0]] == (MessageStatus.SENT, 2)


def test_a_message_always_refused_gets_as_many_tries_as_one_sent_alone(app, dispatched, drain, monkeypatch):
    def always_busy(self, message, text):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(MemoryBackend, "send", always_busy)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [10, 60])
    ids = _tell(dispatched)
    for _ in range(4):
        drain(fast_forward=True)
    assert [(m.status, m.attempts) for m in _rows(ids)] == [(MessageStatus.FAILED, 3)] * 4  # the first + 2 retries


def test_the_sweep_leaves_them_while_their_job_waits_and_sends_each_once_when_it_is_gone(app, dispatched, drain):
    ids = _tell(dispatched)
    later = utcnow() + timedelta(minutes=10)
    assert sweep_unsent(now=later) == 0  # their one job is still queued

    get_redis(app).flushdb()  # Redis lost it
    assert sweep_unsent(now=later) == 4
    assert sweep_unsent(now=later) == 0  # each is queued now, once
    drain()
    assert sorted(to for _c, to, _t in MemoryBackend.sent) == sorted(
        [DEPT_PHONE, TOWN_PHONE, "dept@example.com", "town@example.com"]
    )
    assert all(m.status is MessageStatus.SENT for m in _rows(ids))
