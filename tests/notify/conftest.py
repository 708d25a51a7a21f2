"""Fixtures for messages out: a case to write about, a worker that drains retries and scheduled
jobs, and template rows put back as shipped after each test."""

import time

import pytest
import sqlalchemy as sa

from intake.cases.workflow import record
from intake.extensions import db
from notify.backends import MemoryBackend
from notify.models import MessageTemplate
from notify.services import seed_templates
from tests.factories import CaseFactory

CITIZEN = "+8613900001111"


@pytest.fixture(autouse=True)
def _fresh_backends_and_templates(app):
    MemoryBackend.sent.clear()
    yield
    db.session.rollback()
    db.session.execute(sa.delete(MessageTemplate))  # before the users they name are deleted
    seed_templates()
    db.session.commit()


@pytest.fixture
def case():
    return CaseFactory(description="买到过期牛奶，商家不肯退。", complainant_phone=CITIZEN)


@pytest.fixture
def event(case):
    """A new event on the case each call: each message needs its own idempotency key."""
    return lambda: record(case, "note", "测试")


@pytest.fixture
def template():
    """Add a template row, as an administrator would have it."""

    def add(key: str, text: str, essential: bool = True, channel: str = "sms") -> str:
        db.session.add(MessageTemplate(key=key, channel=channel, text=text, essential=essential))
        db.session.flush()
        return key

    return add


@pytest.fixture
def drain(app):
    """Run a real RQ worker, with its scheduler, until nothing is queued or due. With
    fast_forward, the jobs scheduled for later (retry backoff, quiet hours) are made due first,
    as if their time had come."""
    from rq import SimpleWorker

    from intake.redis_conn import get_queues, get_redis

    def run(fast_forward: bool = False) -> None:
        queues, redis = get_queues(app), get_redis(app)
        if fast_forward:
            for queue in queues:
                for job_id in queue.scheduled_job_registry.get_job_ids():
                    redis.zadd(queue.scheduled_job_registry.key, {job_id: 0})
        for _ in range(10):
            SimpleWorker(queues, connection=redis).work(burst=True, with_scheduler=True)
            now = int(time.time())
            if not any(q.count or q.scheduled_job_registry.get_jobs_to_schedule(now) for q in queues):
                return
        raise AssertionError("jobs kept coming back")

    return run
