"""`flask worker` as an operator sees it: it outlives Redis and database outages, and every case
filed through the site ends up routed; jobs run in the worker's own process.

These start a real `flask --app wsgi worker` in a subprocess against a redis-server of their own
(port 6391, killed and started again on the same port), with sweeps every 2 seconds. Each takes
10-40 s (marked `slow`); `-m "not slow"` leaves them out.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from redis import Redis
from rq.job import JobStatus

from intake.cases.models import Case, CaseStatus
from intake.config import ROOT
from intake.extensions import db
from intake.redis_conn import ROUTING, get_queue
from tests.intake.test_api import PHARMACY

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs a redis-server binary"),
]
# under pytest -n, each xdist worker its own redis-server port (and the port above it for the proxy) and queues
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
PORT = 6391 + 10 * int(WORKER.removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:{PORT}/0"
QUEUE = f"intake-outage-test-{WORKER}"


class RedisServer:
    """Our own redis-server on PORT, with nothing saved: a restart starts it empty, as after a crash."""

    def __init__(self, tmp_path, port: int = PORT):
        self.dir, self.proc, self.port = tmp_path, None, port
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def site(app):
    """The site, as a second app on the same database, enqueueing on our redis-server."""
    from intake import create_app

    site = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": QUEUE,
            "NOTIFY_SMS_BACKEND": "memory",
            "NOTIFY_MAIL_BACKEND": "memory",
            "NOTIFY_QUIET_HOURS": "",
            "THROTTLES_ENABLED": False,
        }
    )
    yield site
    with site.app_context():
        db.session.remove()
        db.engine.dispose()


def start_worker(app, tmp_path, database_url=None, redis_url=REDIS_URL, queue=QUEUE, **env):
    log = open(tmp_path / "worker.log", "wb")
    environ = dict(
        os.environ,
        DATABASE_URL=database_url or app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url,
        RQ_QUEUE=queue,
        INSTANCE_PATH=app.instance_path,
        ROUTING_SWEEP_GRACE="0",
        ROUTING_SWEEP_INTERVAL="2",
        CLOCK_SWEEP_INTERVAL="2",
        NOTIFY_SWEEP_INTERVAL="2",
        NOTIFY_SMS_BACKEND="memory",
        NOTIFY_MAIL_BACKEND="memory",
        LOG_LEVEL="INFO",
        **env,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=environ, stdout=log, stderr=log
    )
    proc.log_path = tmp_path / "worker.log"
    return proc


def stop_worker(proc) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def file_cases(site, n: int) -> list[int]:
    client = site.test_client()
    numbers = []
    for _ in range(n):
        resp = client.post("/api/v1/cases", json=PHARMACY)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        numbers.append(resp.get_json()["tracking_no"])
    return numbers


def still_received(numbers) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count(Case.id)).where(Case.tracking_no.in_(numbers), Case.status == CaseStatus.RECEIVED)
    )


def wait_until_routed(numbers, proc, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the worker exited:\n" + proc.log_path.read_text(errors="replace")[-4000:]
        left = still_received(numbers)
        if not left:
            return 0
        time.sleep(0.3)
    return still_received(numbers)


def test_a_busy_worker_outlives_a_five_second_redis_outage(app, site, redis_server, tmp_path):
    backlog = file_cases(site, 80)  # queued before the worker starts: it is busy when Redis goes
    worker = start_worker(app, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while still_received(backlog) > 70 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0 < still_received(backlog) <= 70, worker.log_path.read_text(errors="replace")[
            -3000:
        ]  # routing, and far from done
        redis_server.kill()
        during = file_cases(site, 5)  # the site still answers 201; these wait for the sweep
        time.sleep(5)
        assert worker.poll() is None
        redis_server.start()  # empty: the queued jobs are gone, the sweep enqueues them again
        assert wait_until_routed(backlog + during, worker, 45) == 0, worker.log_path.read_text(errors="replace")[-4000:]
        assert worker.poll() is None
    finally:
        status = stop_worker(worker)
    log = worker.log_path.read_text(errors="replace")
    assert "found an unhandled exception" not in log
    assert log.count("Redis unreachable") <= 1, log[-4000:]  # said once, not a line per retry
    assert "Redis is back after" in log
    assert status == 0, log[-4000:]


def test_an_outage_spanning_cron_ticks_leaves_the_sweeps_running(app, site, redis_server, tmp_path):
    worker = start_worker(app, tmp_path)
    try:
        assert wait_until_routed(file_cases(site, 2), worker, 30) == 0
        redis_server.kill()
        during = file_cases(site, 3)  # never enqueued: only a sweep can route them
        time.sleep(9)  # four and more sweep intervals
        assert worker.poll() is None
        redis_server.start()
        assert wait_until_routed(during, worker, 30) == 0, worker.log_path.read_text(errors="replace")[-4000:]
        # and the sweeps go on after that: a case whose job is lost is routed by the next sweep
        later = file_cases(site, 1)
        Redis.from_url(REDIS_URL).delete(f"rq:queue:{QUEUE}-routing")
        assert wait_until_routed(later, worker, 20) == 0
        # a routing job runs in the worker process itself (no work horse forked per job)
        with site.app_context():
            job = get_queue(site, ROUTING).enqueue(os.getpid)
        deadline = time.monotonic() + 20
        while job.get_status() != JobStatus.FINISHED and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.return_value() == worker.pid
    finally:
        status = stop_worker(worker)
    log = worker.log_path.read_text(errors="replace")
    assert "Redis (schedulers) is back after" in log, log[-4000:]
    assert status == 0


class Proxy:
    """A TCP proxy to the database that can be cut off (listener and connections) and restored."""

    def __init__(self, target: tuple[str, int], port: int):
        self.target, self.port = target, port
        self.conns: list[socket.socket] = []
        self.listener = None

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        self.listener.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
        self.conns = []


def test_a_worker_outlives_a_database_outage(app, site, redis_server, tmp_path):
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("cutting the database off needs PostgreSQL (a proxy in front of it)")
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432), PORT + 2)
    proxy.start()
    worker = start_worker(app, tmp_path, database_url=url.set(port=PORT + 2).render_as_string(hide_password=False))
    try:
        assert wait_until_routed(file_cases(site, 2), worker, 30) == 0
        proxy.cut()
        during = file_cases(site, 5)  # the site reaches the database directly; the worker does not
        time.sleep(6)
        assert worker.poll() is None
        proxy.start()
        assert wait_until_routed(during, worker, 30) == 0, worker.log_path.read_text(errors="replace")[-4000:]
    finally:
        status = stop_worker(worker)
        proxy.cut()
    assert status == 0


def test_a_worker_with_no_database_keeps_running(app, site, redis_server, tmp_path):
    """SQLite or not: a database that is not there fails the jobs, not the worker."""
    worker = start_worker(app, tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{PORT + 2}/nothing")
    try:
        file_cases(site, 3)  # enqueued on our Redis; the worker's routing jobs cannot reach a database
        deadline = time.monotonic() + 20
        failed = 0
        redis = Redis.from_url(REDIS_URL)
        while time.monotonic() < deadline and failed < 3:
            failed = redis.zcard(f"rq:failed:{QUEUE}-routing")
            time.sleep(0.3)
        assert failed == 3  # it tried each, and failed them for the sweep to enqueue again
        time.sleep(3)  # a sweep tick or two, against no database
        assert worker.poll() is None, worker.log_path.read_text(errors="replace")[-4000:]
    finally:
        status = stop_worker(worker)
    assert status == 0
