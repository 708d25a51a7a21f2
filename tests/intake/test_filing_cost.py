"""What one filing costs: its SQL statements and Redis round trips, the reference data it caches,
the tracking number left to the unique index, and a web process without the router's data."""

import os
import subprocess
import sys

import sqlalchemy as sa
from redis.client import Pipeline, Redis

from intake.cases import services as case_services
from intake.cases.codes import check_digit
from intake.cases.models import Case
from intake.extensions import db
from intake.reference import cache
from intake.reference.models import Industry
from notify.models import MessageTemplate

from .test_api import PHARMACY


class Counted:
    """SQL statements and Redis round trips (a pipeline is one) while the block runs."""

    def __init__(self, monkeypatch):
        self.sql, self.redis = [], []
        sa.event.listen(db.engine, "before_cursor_execute", self._sql)
        plain, piped = Redis.execute_command, Pipeline.execute

        def command(client, *args, **options):
            if not isinstance(client, Pipeline):
                self.redis.append(args[0])
            return plain(client, *args, **options)

        def pipeline(pipe, *args, **kwargs):
            self.redis.append("PIPELINE")
            return piped(pipe, *args, **kwargs)

        monkeypatch.setattr(Redis, "execute_command", command)
        monkeypatch.setattr(Pipeline, "execute", pipeline)

    def _sql(self, conn, cursor, statement, *args):
        self.sql.append(statement.split()[0].upper())

    def stop(self):
        sa.event.remove(db.engine, "before_cursor_execute", self._sql)


def test_a_filing_is_one_statement_on_postgresql_two_inserts_elsewhere_and_one_redis_round_trip(
    app, client, monkeypatch
):
    monkeypatch.setitem(app.config, "REFERENCE_CHECK_SECONDS", 60)
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201  # warms the caches
    counted = Counted(monkeypatch)
    try:
        assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    finally:
        counted.stop()
    # the case (its receipt sealed on it) and the receive event, in one statement where the database
    # can (WITH case AS (INSERT …) INSERT event …); the receipt job makes the SMS and counts the
    # number's SMS for the day (notify.tasks.send_receipt), not the request
    expected = ["WITH"] if db.engine.dialect.name == "postgresql" else ["INSERT", "INSERT"]
    assert counted.sql == expected, counted.sql
    assert counted.redis == ["PIPELINE"]  # the routing job and the receipt job, after the commit, together


def test_a_taken_tracking_number_is_left_to_the_unique_index_and_another_is_drawn(client, monkeypatch):
    first = client.post("/api/v1/cases", json=PHARMACY).get_json()["tracking_no"]
    body = "991231" + "000001"
    fresh = body + check_digit(body)
    numbers = iter([first, first, fresh])
    monkeypatch.setattr(case_services, "_new_tracking_no", lambda: next(numbers))
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 201 and resp.get_json()["tracking_no"] == fresh
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 2


def test_cached_reference_data_follows_changes_here_at_once_and_elsewhere_within_the_check_interval(app, monkeypatch):
    from intake.cases.forms import industry_choices
    from notify.services import template_for

    monkeypatch.setitem(app.config, "REFERENCE_CHECK_SECONDS", 3600)
    original = template_for("web_receipt")["text"]
    row = db.session.get(MessageTemplate, "web_receipt")
    row.text = original + "（改）"
    db.session.commit()
    assert template_for("web_receipt")["text"] == original + "（改）"  # this process: at once

    # another process changed it: this one sees the new version once the interval has passed
    industry = db.session.get(Industry, "pharmacy")
    name = industry.name
    try:
        assert dict(industry_choices())["pharmacy"] == name
        db.session.rollback()  # SQLite: our read transaction would block the other connection's write
        with db.engine.begin() as conn:  # behind the ORM's back, as another process would
            conn.execute(sa.update(Industry).where(Industry.code == "pharmacy").values(name="药店X"))
        assert dict(industry_choices())["pharmacy"] == name  # not asked again yet
        from intake.redis_conn import get_redis

        get_redis(app).incr(cache.VERSION_KEY)
        monkeypatch.setitem(app.config, "REFERENCE_CHECK_SECONDS", 0)
        assert dict(industry_choices())["pharmacy"] == "药店X"
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(sa.update(Industry).where(Industry.code == "pharmacy").values(name=name))
            conn.execute(sa.update(MessageTemplate).where(MessageTemplate.key == "web_receipt").values(text=original))
        cache.forget()


def test_the_web_process_does_not_load_the_routers_data():
    """gunicorn imports wsgi: the pinyin phrases and the phone geodata stay out (~100 MB per worker)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (
        "import sys, wsgi; heavy = [m for m in ('pypinyin', 'phonenumbers.geocoder', 'routing.router.fuzzy',"
        " 'routing.router.decide') if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    env = {**os.environ, "LOG_LEVEL": "WARNING", "THROTTLES_ENABLED": "false"}
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_what_the_routing_jobs_cache_is_watched_in_every_process_so_a_write_tells_the_others(app):
    """A web process that never routed still bumps the version when an administrator changes a
    time limit, a holiday or a department: the workers cache all three."""
    import datetime

    from intake.redis_conn import get_redis
    from intake.reference.models import CalendarDay

    assert {"time_limit_policy", "calendar_day", "department"} <= cache._watched  # from the imports alone
    before = int(get_redis(app).get(cache.VERSION_KEY) or 0)
    db.session.add(CalendarDay(day=datetime.date(2031, 1, 2), working=False, note="测试"))
    db.session.commit()
    assert int(get_redis(app).get(cache.VERSION_KEY)) == before + 1
