"""/healthz, /readyz and /metrics: what each checks, when each refuses, and what /metrics counts."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from intake import config, jobcontext
from intake.extensions import db
from intake.redis_conn import get_queue, get_redis
from intake.sweeplog import SWEEPS, SweepRun, record_sweep
from intake.transaction import transaction
from intake.types import utcnow
from tests.intake.test_api import PHARMACY

DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/nothing"  # nothing listens on port 1
DEAD_REDIS = "redis://127.0.0.1:1/11"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sweeps_ran(ago: timedelta = timedelta(0)) -> None:
    with transaction():
        for name in SWEEPS:
            record_sweep(name, utcnow() - ago)


def a_worker(app, name="test-worker") -> Worker:
    worker = Worker([get_queue(app)], connection=get_redis(app), name=name)
    worker.register_birth()  # what a starting RQ worker writes to Redis: its key, with a heartbeat
    return worker


@pytest.fixture
def other_app(app):
    """A second app on other servers; the suite's app stays the one jobs are built with."""
    saved = list(jobcontext._factory)

    def make(**overrides):
        from intake import create_app

        settings = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "RQ_QUEUE": app.config["RQ_QUEUE"],
            "THROTTLES_ENABLED": False,
            "READYZ_TIMEOUT": 1,
        }
        return create_app({**settings, **overrides})

    yield make
    jobcontext._factory[:] = saved


def scrape(client, app) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {app.config['METRICS_TOKEN']}"})
    assert resp.status_code == 200 and resp.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(resp.get_data(as_text=True))
        for sample in family.samples
    }


def sample(samples, name, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


# --- /healthz and /readyz ------------------------------------------------------------------------


def test_healthz_answers_without_database_or_redis(other_app):
    dead = other_app(SQLALCHEMY_DATABASE_URI=DEAD_DATABASE, REDIS_URL=DEAD_REDIS)
    resp = dead.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert len(resp.data) < 40 and "Set-Cookie" not in resp.headers


def test_ready_when_a_worker_has_registered_and_every_sweep_ran(app, client):
    a_worker(app)
    sweeps_ran(timedelta(seconds=5))
    resp = client.get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "redis", "workers", "sweeps"}
    assert body["checks"]["workers"]["workers"] == 1 and body["checks"]["workers"]["heartbeat_age"] < 60
    assert set(body["checks"]["sweeps"]["sweeps"]) == set(SWEEPS)


def test_not_ready_without_a_worker(client):
    sweeps_ran()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "fail" and body["failed"] == ["workers"]
    assert body["checks"]["workers"]["error"] == "no worker has registered for the queue"


def test_not_ready_when_the_only_worker_heartbeat_is_stale(app, client):
    worker = a_worker(app)
    old = utcnow() - timedelta(seconds=app.config["READYZ_WORKER_MAX_AGE"] + 30)
    get_redis(app).hset(worker.key, "last_heartbeat", old.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    sweeps_ran()
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["failed"] == ["workers"]


def test_a_worker_of_another_queue_does_not_count(app, client):
    from rq import Queue

    Worker([Queue("elsewhere", connection=get_redis(app))], connection=get_redis(app), name="other").register_birth()
    sweeps_ran()
    assert client.get("/readyz").get_json()["failed"] == ["workers"]


def test_not_ready_when_a_sweep_is_stale_or_never_ran(app, client):
    a_worker(app)
    sweeps_ran()
    with transaction():
        record_sweep("sweep_unrouted", utcnow() - timedelta(hours=1))
        db.session.execute(sa.delete(SweepRun).where(SweepRun.name == "sweep_unsent"))
    resp = client.get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503 and body["failed"] == ["sweeps"]
    assert body["checks"]["sweeps"]["error"] == "never ran or stale: sweep_unrouted, sweep_unsent"
    assert body["checks"]["sweeps"]["sweeps"]["sweep_unsent"]["age"] is None
    assert body["checks"]["sweeps"]["sweeps"]["sweep_unrouted"]["age"] >= 3600


def test_not_ready_when_the_database_is_unreachable(app, other_app):
    a_worker(app)
    get_redis(app)  # the suite's Redis URL is known once connected (embedded: its socket)
    dead = other_app(SQLALCHEMY_DATABASE_URI=DEAD_DATABASE, REDIS_URL=app.config["REDIS_URL"])
    started = time.monotonic()
    resp = dead.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    body = resp.get_json()
    assert resp.status_code == 503 and body["failed"] == ["database", "sweeps"]
    assert body["checks"]["database"]["error"] == "OperationalError"  # the class only: no host or user
    assert body["checks"]["redis"]["ok"] and body["checks"]["workers"]["ok"]


def test_not_ready_when_redis_is_unreachable(app, other_app):
    sweeps_ran()
    dead = other_app(REDIS_URL=DEAD_REDIS)
    resp = dead.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503 and body["failed"] == ["redis", "workers"]
    assert body["checks"]["redis"]["error"] == "ConnectionError" and body["checks"]["database"]["ok"]
    assert body["checks"]["workers"]["error"] == "redis unreachable"


def test_health_routes_are_machine_routes(app):
    from intake.authz import MACHINE, ROUTES

    assert {ROUTES[e] for e in ("health.healthz", "health.readyz", "health.metrics")} == {MACHINE}


# --- the sweeps record their runs -------------------------------------------------------------------


def test_a_sweep_records_its_run_and_the_list_matches_the_worker(app):
    from intake.worker import periodic_jobs
    from routing.tasks import sweep_unrouted

    assert {func.__name__ for func, _ in periodic_jobs(app)} == set(SWEEPS)
    before = utcnow()
    sweep_unrouted()
    db.session.remove()
    row = db.session.get(SweepRun, "sweep_unrouted")
    assert row is not None and row.last_run_at >= before - timedelta(seconds=1)


def test_a_sweep_that_fails_keeps_its_last_good_run(app, monkeypatch):
    from routing import tasks

    sweeps_ran(timedelta(hours=1))
    monkeypatch.setattr(tasks, "enqueue_now", lambda *a, **k: 1 / 0)
    client = app.test_client()
    client.post("/api/v1/cases", json=PHARMACY)
    get_redis(app).flushdb()  # its routing job is lost: the sweep has work to enqueue
    with pytest.raises(ZeroDivisionError):
        tasks.sweep_unrouted()
    db.session.remove()
    assert db.session.get(SweepRun, "sweep_unrouted").last_run_at < utcnow() - timedelta(minutes=59)


# --- /metrics ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic Zm9vOmJhcg==", "Bearer "])
def test_metrics_refused_without_the_token(client, header):
    resp = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401 and "intake_" not in resp.get_data(as_text=True)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_open_to_a_configured_network(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_NETWORKS", "10.0.0.0/8, 127.0.0.1")
    assert client.get("/metrics").status_code == 200
    monkeypatch.setitem(app.config, "METRICS_NETWORKS", "10.0.0.0/8")
    assert client.get("/metrics").status_code == 401


def test_metrics_count_requests_per_endpoint_not_per_path(app, client):
    def total(samples, endpoint):
        return sum(
            value
            for (name, labels), value in samples.items()
            if name == "intake_http_requests_total" and ("endpoint", endpoint) in labels
        )

    before = scrape(client, app)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/api/v1/cases/1234567890123")  # two paths, one endpoint
    client.get("/api/v1/cases/9999999999999")
    client.get("/no/such/page")  # no route: "none"
    after = scrape(client, app)
    assert sample(after, "intake_http_requests_total", endpoint="health.healthz", method="GET", status="200") == (
        (sample(before, "intake_http_requests_total", endpoint="health.healthz", method="GET", status="200") or 0) + 2
    )
    assert total(after, "api.get_case") - total(before, "api.get_case") == 2
    assert total(after, "none") - total(before, "none") == 1
    assert not any("1234567890123" in str(labels) or "/no/such" in str(labels) for _, labels in after)
    count = sample(after, "intake_http_request_duration_seconds_count", endpoint="health.healthz", method="GET")
    assert count >= 2


def test_metrics_count_filings_and_routings_and_show_the_queue(app, client, run_jobs):
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    samples = scrape(client, app)
    assert sample(samples, "intake_cases_filed_total", channel="api") == 1
    routing = get_queue(app)  # its routing job (the receipt SMS waits on the messages queue)
    assert routing.count == 1 and sample(samples, "intake_rq_queue_length", queue=routing.name) == 1
    assert sample(samples, "intake_received_cases") == 1
    assert sample(samples, "intake_oldest_received_case_age_seconds") >= 0
    assert sample(samples, "intake_probe_up", source="database") == 1
    assert sample(samples, "intake_probe_up", source="redis") == 1

    run_jobs()
    samples = scrape(client, app)
    assert sample(samples, "intake_cases_routed_total", outcome="auto") == 1
    assert sample(samples, "intake_rq_queue_length", queue=routing.name) == 0
    assert sample(samples, "intake_received_cases") == 0
    assert sample(samples, "intake_oldest_received_case_age_seconds") == 0
    assert sample(samples, "intake_rq_failed_jobs", queue=routing.name) == 0


def test_oldest_received_age_follows_the_oldest_waiting_case(app, client):
    from intake.cases.models import Case

    client.post("/api/v1/cases", json=PHARMACY)
    with transaction():
        db.session.execute(sa.update(Case).values(received_at=utcnow() - timedelta(minutes=10)))
    age = sample(scrape(client, app), "intake_oldest_received_case_age_seconds")
    assert 590 < age < 700


def test_refused_filing_is_not_counted(app, client):
    client.post("/api/v1/cases", json={**PHARMACY, "description": ""})
    assert sample(scrape(client, app), "intake_cases_filed_total", channel="api") is None


def test_rolled_back_filing_is_not_counted(app, client):
    from intake.cases.models import CaseKind, Channel
    from intake.cases.services import Submission, submit_case

    submit_case(Submission(kind=CaseKind.COMPLAINT, channel=Channel.WEB, description=PHARMACY["description"]))
    db.session.rollback()
    assert sample(scrape(client, app), "intake_cases_filed_total", channel="web") is None


def test_sweep_ages_and_failed_jobs_are_shown(app, client):
    sweeps_ran(timedelta(seconds=90))
    get_queue(app).failed_job_registry  # noqa: B018  (registries exist whether or not used)
    samples = scrape(client, app)
    for name in SWEEPS:
        assert 89 <= sample(samples, "intake_sweep_last_run_age_seconds", sweep=name) < 150


def test_metrics_answer_with_redis_down(app, other_app):
    dead = other_app(REDIS_URL=DEAD_REDIS)
    samples = scrape(dead.test_client(), dead)
    assert sample(samples, "intake_probe_up", source="redis") == 0
    assert sample(samples, "intake_probe_up", source="database") == 1


def test_production_needs_a_metrics_token(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    for key in config.PRODUCTION_REQUIRED:
        monkeypatch.setenv(key, "set")
    monkeypatch.delenv("METRICS_TOKEN")
    with pytest.raises(config.ConfigError, match="METRICS_TOKEN"):
        config.load(str(tmp_path))


def test_a_malformed_metrics_network_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("METRICS_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(config.ConfigError, match="METRICS_NETWORKS"):
        config.load(str(tmp_path))


# --- gunicorn with several processes ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_request_counts_are_summed_over_gunicorn_workers(tmp_path):
    """Three gunicorn workers (gunicorn.conf.py: multiprocess mode); whichever answers the scrape
    counts every worker's requests."""
    port = _free_port()
    env = {
        **os.environ,
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite3",
        "REDIS_URL": DEAD_REDIS,
        "THROTTLES_ENABLED": "false",
        "METRICS_TOKEN": "scrape-me",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
    }
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "-w", "3", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    scraped = urllib.request.Request(base + "/metrics", headers={"Authorization": "Bearer scrape-me"})
    try:
        for _ in range(100):  # until the master has bound the port; then wait for a worker to answer
            try:
                urllib.request.urlopen(base + "/healthz", timeout=60)
                break
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError):
                    raise
                time.sleep(0.1)
        before = _samples(urllib.request.urlopen(scraped, timeout=10).read().decode())
        sent, pids = 0, set()
        for _ in range(20):  # at once, so that several workers answer; again while the others boot
            with ThreadPoolExecutor(6) as pool:
                list(pool.map(lambda _: urllib.request.urlopen(base + "/healthz", timeout=10).read(), range(30)))
            sent += 30
            pids = {int(name.split("_")[-1].split(".")[0]) for name in os.listdir(tmp_path / "prom")}
            if len(pids) >= 2:
                break
            time.sleep(0.5)
        after = _samples(urllib.request.urlopen(scraped, timeout=10).read().decode())
    finally:
        server.terminate()
        server.wait(10)
    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert (
        sample(after, "intake_http_requests_total", **healthz) - sample(before, "intake_http_requests_total", **healthz)
        == sent
    )
    assert len(pids) >= 2, "the requests should have been spread over several workers"


def _samples(text: str) -> dict:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_count_lost_to_a_redis_outage_does_not_fail_the_filing(app, client, monkeypatch):
    from intake import jobs, metrics

    def dead_redis(**kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(jobs, "get_queue", dead_redis)  # the count travels with the filing's jobs
    monkeypatch.setattr(metrics, "_redis_down_until", [0.0])
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert metrics._redis_down_until[0] > time.monotonic()  # the next filings do not wait for it
    monkeypatch.undo()
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert sample(scrape(client, app), "intake_cases_filed_total", channel="api") == 1


def test_a_probe_statement_has_the_short_timeout_on_postgresql(app):
    from intake.health.services import _connect

    with _connect(app) as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("SQLite has no statement timeout (its probe waits READYZ_TIMEOUT for a lock)")
        assert conn.scalar(sa.text("SHOW statement_timeout")) == f"{int(app.config['READYZ_TIMEOUT'])}s"
