"""The probes behind /readyz and the figures /metrics reads at scrape time.

Each probe has its own short timeout (READYZ_TIMEOUT) and its own connection, so a hung database
or Redis makes the answer "not ready" within seconds rather than holding the request (and a
gunicorn worker) for the client's whole timeout. Errors are reported by class name only: the
answer is public, and a driver's message names hosts and users.
"""

import math
import time
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from redis import Redis
from rq import Queue, Worker
from sqlalchemy.pool import NullPool

from intake.cases.models import Case, CaseStatus
from intake.metrics import CASE_COUNTERS, case_counts
from intake.redis_conn import QUEUE_KINDS, ROUTING, queue_name, redis_url
from intake.sweeplog import SWEEPS, last_runs
from intake.types import utcnow


def _timeout(app) -> float:
    return float(app.config["READYZ_TIMEOUT"])


def probe_engine(app) -> sa.Engine:
    """An engine of its own, no pool: every probe opens a connection with a connect and a statement timeout."""
    engine = app.extensions.get("health_engine")
    if engine is None:
        url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        seconds = _timeout(app)
        if url.get_backend_name() == "postgresql":  # the statement timeout: _connect
            connect_args = {"connect_timeout": max(1, math.ceil(seconds))}
        elif url.get_backend_name() == "sqlite":
            connect_args = {"timeout": seconds}
        else:
            connect_args = {}
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        app.extensions["health_engine"] = engine
    return engine


@contextmanager
def _connect(app):
    """A probe's connection; on PostgreSQL its transaction has READYZ_TIMEOUT as statement timeout
    (SET LOCAL, not a startup option, which PgBouncer would refuse)."""
    engine = probe_engine(app)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"SET LOCAL statement_timeout = {int(_timeout(app) * 1000)}"))
        yield conn


def probe_redis(app) -> Redis:
    client = app.extensions.get("health_redis")
    if client is None:
        seconds = _timeout(app)
        client = Redis.from_url(redis_url(app), socket_connect_timeout=seconds, socket_timeout=seconds)
        app.extensions["health_redis"] = client
    return client


def _failure(exc: Exception) -> str:
    return type(exc).__name__


def _timed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# --- /readyz --------------------------------------------------------------------------------------


def check_database(app) -> tuple[dict, dict[str, datetime] | None]:
    """SELECT 1, and (on the same connection) the sweeps' last runs."""
    started = time.perf_counter()
    try:
        with _connect(app) as conn:
            conn.execute(sa.text("SELECT 1"))
            runs = last_runs(conn)
    except Exception as exc:
        return {"ok": False, "error": _failure(exc), "ms": _timed(started)}, None
    return {"ok": True, "ms": _timed(started)}, runs


def check_redis(app) -> dict:
    started = time.perf_counter()
    try:
        probe_redis(app).ping()
    except Exception as exc:
        return {"ok": False, "error": _failure(exc), "ms": _timed(started)}
    return {"ok": True, "ms": _timed(started)}


def queue_workers(app, redis) -> list[Worker]:
    """The RQ workers that serve the routing queue (RQ drops a worker's key worker_ttl + 60 s after its
    last beat); a worker for messages or sweeps only does not make cases get routed."""
    return Worker.all(queue=Queue(queue_name(ROUTING, app), connection=redis))


def freshest_heartbeat_age(workers, now: datetime) -> float | None:
    beats = [w.last_heartbeat for w in workers if w.last_heartbeat is not None]
    return round((now - max(beats)).total_seconds(), 1) if beats else None


def check_workers(app, now: datetime, redis_ok: bool = True) -> dict:
    max_age = app.config["READYZ_WORKER_MAX_AGE"]
    if not redis_ok:  # not a second timeout on the same dead server
        return {"ok": False, "error": "redis unreachable", "max_age": max_age}
    try:
        workers = queue_workers(app, probe_redis(app))
    except Exception as exc:
        return {"ok": False, "error": _failure(exc), "max_age": max_age}
    age = freshest_heartbeat_age(workers, now)
    result = {"ok": age is not None and age <= max_age, "workers": len(workers), "heartbeat_age": age}
    result["max_age"] = max_age
    if age is None:
        result["error"] = "no worker has registered for the queue"
    elif age > max_age:
        result["error"] = "no worker heartbeat within max_age"
    return result


def sweep_ages(runs: dict[str, datetime], now: datetime) -> dict[str, float | None]:
    return {name: round((now - runs[name]).total_seconds(), 1) if name in runs else None for name in SWEEPS}


def check_sweeps(app, runs: dict[str, datetime] | None, now: datetime) -> dict:
    if runs is None:
        return {"ok": False, "error": "database unreachable"}
    grace = app.config["READYZ_SWEEP_GRACE"]
    sweeps, stale = {}, []
    for name, age in sweep_ages(runs, now).items():
        max_age = app.config[SWEEPS[name]] + grace
        sweeps[name] = {"age": age, "max_age": max_age}
        if age is None or age > max_age:
            stale.append(name)
    result = {"ok": not stale, "sweeps": sweeps}
    if stale:
        result["error"] = "never ran or stale: " + ", ".join(stale)
    return result


def readiness(app) -> tuple[bool, dict]:
    """({all passed}, the breakdown /readyz answers with)."""
    now = utcnow()
    database, runs = check_database(app)
    redis = check_redis(app)
    checks = {
        "database": database,
        "redis": redis,
        "workers": check_workers(app, now, redis["ok"]),
        "sweeps": check_sweeps(app, runs, now),
    }
    failed = [name for name, check in checks.items() if not check["ok"]]
    return not failed, {"status": "fail" if failed else "ok", "failed": failed, "checks": checks}


# --- /metrics: what is read at scrape time --------------------------------------------------------


class ScrapeCollector:
    """Queue lengths, failed jobs, workers, the case counters kept in Redis, the oldest received
    case and the sweeps' ages: read when Prometheus scrapes, by whichever process answers."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []  # read at scrape time; nothing to check at registration

    def collect(self):
        now = utcnow()
        up = GaugeMetricFamily("intake_probe_up", "Whether the scrape could read the source", labels=["source"])
        redis_ok = yield from self._from_redis(now)
        db_ok = yield from self._from_database(now)
        up.add_metric(["redis"], 1 if redis_ok else 0)
        up.add_metric(["database"], 1 if db_ok else 0)
        yield up

    def _from_redis(self, now):
        try:
            redis = probe_redis(self.app)
            names = {
                *(queue_name(kind, self.app) for kind in QUEUE_KINDS),
                *(q.name for q in Queue.all(connection=redis)),
            }
            queues = [Queue(name, connection=redis) for name in sorted(names)]
            lengths = [(q.name, q.count, q.failed_job_registry.count, q.scheduled_job_registry.count) for q in queues]
            workers = queue_workers(self.app, redis)
            counts = case_counts(redis)
        except Exception:
            return False
        queued = GaugeMetricFamily("intake_rq_queue_length", "Jobs waiting in each RQ queue", labels=["queue"])
        failed = GaugeMetricFamily(
            "intake_rq_failed_jobs", "Jobs in each RQ queue's failed-job registry", labels=["queue"]
        )
        scheduled = GaugeMetricFamily(
            "intake_rq_scheduled_jobs", "Jobs scheduled for later (retries, quiet hours)", labels=["queue"]
        )
        for name, length, failures, later in lengths:
            queued.add_metric([name], length)
            failed.add_metric([name], failures)
            scheduled.add_metric([name], later)
        yield queued
        yield failed
        yield scheduled
        yield GaugeMetricFamily("intake_rq_workers", "RQ workers registered for the app's queue", value=len(workers))
        age = freshest_heartbeat_age(workers, now)
        if age is not None:
            yield GaugeMetricFamily(
                "intake_rq_worker_heartbeat_age_seconds", "Age of the freshest RQ worker heartbeat", value=age
            )
        for name, (_, label, help_text) in CASE_COUNTERS.items():
            family = CounterMetricFamily(name, help_text, labels=[label])
            for value, count in sorted(counts[name].items()):
                family.add_metric([value], count)
            yield family
        return True

    def _from_database(self, now):
        try:
            with _connect(self.app) as conn:
                oldest, waiting = conn.execute(
                    sa.select(sa.func.min(Case.received_at), sa.func.count()).where(Case.status == CaseStatus.RECEIVED)
                ).one()
                runs = last_runs(conn)
        except Exception:
            return False
        yield GaugeMetricFamily(
            "intake_received_cases", "Cases waiting for the router (status received)", value=waiting
        )
        yield GaugeMetricFamily(
            "intake_oldest_received_case_age_seconds",
            "Age of the oldest case still waiting for the router (0: none waits)",
            value=(now - oldest).total_seconds() if oldest else 0,
        )
        ages = GaugeMetricFamily(
            "intake_sweep_last_run_age_seconds", "Seconds since each sweep last ran to its end", labels=["sweep"]
        )
        for name, age in sweep_ages(runs, now).items():
            if age is not None:
                ages.add_metric([name], age)
        yield ages
        return True
