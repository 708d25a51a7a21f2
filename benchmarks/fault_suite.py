"""The fault suite: file cases at a steady rate while Redis dies, a worker is SIGKILLed and
PostgreSQL restarts, then check that nothing was lost, nothing routed twice, and nothing is stuck.

Everything runs on its own ports, started by this script: a PostgreSQL cluster in a temporary
folder (initdb, as the `postgres` user when run as root), a redis-server, gunicorn with the site, and
worker processes (`flask --app wsgi worker`, the first one with the cron part). The script plays
the supervisor for the one worker it kills (it starts it again, as systemd or honcho would); the
other workers must live through every fault by themselves.

    python benchmarks/fault_suite.py                 # the full suite: 5 s and 65 s Redis outages
    python benchmarks/fault_suite.py --short         # the CI form (tests/test_fault_suite.py)

It asserts, and prints, for every case answered 201: that it is in the database, routed once
(one `route` or `to_triage` event), and not `received` 60 s after the last fault ends; that no
worker the script did not kill has exited; and that the sweeps still run afterwards (a case put
in the database as if its job had been lost is routed by the routing sweep).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = "/usr/lib/postgresql/15/bin"
CASE = {
    "kind": "complaint",
    "business_name": "好日子大药房",
    "business_address": "浙江省温州市永嘉县瓯北街道罗浮大街88号",
    "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
    "complainant": {"name": "李明", "phone": "13812345678"},
}


# A case filed through the service with the enqueue dropped: stored, and no job anywhere.
LOST_CASE = """
from intake import create_app
from intake.cases import services
from intake.cases.models import CaseKind, Channel
from intake.transaction import transaction

services.enqueue_after_commit = lambda *args, **kwargs: None
with create_app().app_context(), transaction():
    case, _code = services.submit_case(services.Submission(CaseKind.COMPLAINT, Channel.API, "过期药品", "好日子大药房",
                                                           "永嘉县瓯北街道罗浮大街88号"))
    number = case.tracking_no
print(number)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001  (not up yet)
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


class Postgres:
    """A throwaway cluster; run as the postgres user when we are root (initdb refuses root)."""

    def __init__(self, folder: str, port: int):
        self.data, self.port = os.path.join(folder, "pg"), port
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        os.makedirs(self.data)
        if self.as_user:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, os.path.join(PG_BIN, tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.data, "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=3) as conn:
            return conn.execute(sql).fetchall()


class Redis:
    def __init__(self, folder: str, port: int):
        self.folder, self.port, self.process = folder, port, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), 0.2).close() or True, 10, "redis")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Load(threading.Thread):
    """Files a case every 1/rate seconds (open loop: the schedule does not wait for answers)."""

    def __init__(self, url: str, rate: float):
        super().__init__(daemon=True)
        self.url, self.rate, self.stop = url, rate, threading.Event()
        self.accepted: list[str] = []
        self.answers: dict[int, int] = {}
        self.lock = threading.Lock()

    def _file(self) -> None:
        request = urllib.request.Request(
            self.url, data=json.dumps(CASE).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, body = error.code, {}
        except OSError:
            status, body = 0, {}
        with self.lock:
            self.answers[status] = self.answers.get(status, 0) + 1
            if status == 201:
                self.accepted.append(body["tracking_no"])

    def run(self) -> None:
        start, n = time.monotonic(), 0
        while not self.stop.is_set():
            threading.Thread(target=self._file, daemon=True).start()
            n += 1
            time.sleep(max(0.0, start + n / self.rate - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI form: short outages")
    parser.add_argument("--rate", type=float, default=5.0, help="cases filed per second")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    outages = [3] if args.short else [5, 65]
    settle = 30 if args.short else 60

    with ExitStack() as stack:
        folder = tempfile.mkdtemp(prefix="fault-suite-")
        keep = []  # set on failure: the folder stays for its logs
        stack.callback(lambda: keep or shutil.rmtree(folder, ignore_errors=True))
        pg, redis = Postgres(folder, free_port()), Redis(folder, free_port())
        pg.start()
        stack.callback(
            lambda: subprocess.run(
                [*pg.as_user, os.path.join(PG_BIN, "pg_ctl"), "-D", pg.data, "-m", "immediate", "stop"],
                capture_output=True,
            )
        )
        redis.start()
        stack.callback(lambda: redis.process.poll() is None and redis.kill())
        env = {
            **os.environ,
            "DATABASE_URL": pg.url,
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            "INSTANCE_PATH": os.path.join(folder, "instance"),
            "THROTTLES_ENABLED": "false",  # one address files every case
            "ROUTING_SWEEP_GRACE": "5",
            "ROUTING_SWEEP_INTERVAL": "5",
            "CLOCK_SWEEP_INTERVAL": "10",
            "NOTIFY_SWEEP_INTERVAL": "10",
            "NOTIFY_QUIET_HOURS": "",
            "LOG_LEVEL": "WARNING",
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
        logs = open(os.path.join(folder, "processes.log"), "w")
        web_port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{web_port}", "wsgi:app"],
            env=env,
            cwd=ROOT,
            stdout=logs,
            stderr=logs,
        )
        stack.callback(web.terminate)

        def start_worker(cron: bool) -> subprocess.Popen:
            command = [*flask, "worker"] + ([] if cron else ["--no-cron"])
            return subprocess.Popen(command, env=env, cwd=ROOT, stdout=logs, stderr=logs)

        workers = [start_worker(cron=(i == 0)) for i in range(args.workers)]
        stack.callback(lambda: [w.terminate() for w in workers])
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{web_port}/login", timeout=1), 30, "the site")

        load = Load(f"http://127.0.0.1:{web_port}/api/v1/cases", args.rate)
        load.start()
        report = []
        time.sleep(5)
        for seconds in outages:
            redis.kill()
            time.sleep(seconds)
            redis.start()
            report.append(f"Redis down {seconds} s")
            time.sleep(5)
        victim = workers[-1]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        workers[-1] = start_worker(cron=len(workers) == 1)  # the supervisor's restart
        report.append("a worker SIGKILLed and restarted")
        time.sleep(5)
        pg.stop()
        time.sleep(3)
        pg.start()
        report.append("PostgreSQL restarted")
        time.sleep(5)
        load.stop.set()
        last_fault = time.monotonic()

        accepted = list(load.accepted)

        def stuck() -> int:
            numbers = ",".join(f"'{n}'" for n in accepted)
            return pg.query(f"SELECT count(*) FROM \"case\" WHERE tracking_no IN ({numbers}) AND status = 'received'")[
                0
            ][0]

        while stuck() and time.monotonic() - last_fault < settle:
            time.sleep(1)
        numbers = ",".join(f"'{n}'" for n in accepted)
        stored = pg.query(f'SELECT count(*) FROM "case" WHERE tracking_no IN ({numbers})')[0][0]
        twice = pg.query(
            "SELECT count(*) FROM (SELECT case_id FROM case_event WHERE action IN ('route', 'to_triage') "
            "GROUP BY case_id HAVING count(*) > 1) t"
        )[0][0]
        left = stuck()
        dead = [w.args for w in workers if w.poll() is not None]

        # the sweeps still run: a case stored with no job (as if Redis had lost it) is routed by the sweep
        lost = (
            subprocess.run(
                [sys.executable, "-c", LOST_CASE], env=env, cwd=ROOT, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        swept, deadline = False, time.monotonic() + 40
        while time.monotonic() < deadline and not swept:
            swept = pg.query(f"SELECT status FROM \"case\" WHERE tracking_no = '{lost}'")[0][0] != "received"
            time.sleep(1)

        print("faults:", "; ".join(report))
        print(f"answers: {dict(sorted(load.answers.items()))}")
        print(
            f"accepted (201): {len(accepted)}, in the database: {stored}, routed twice: {twice}, "
            f"still received {settle} s after the last fault: {left}"
        )
        print(f"workers that died by themselves: {len(dead)}; the sweep routed a lost case: {swept}")
        ok = stored == len(accepted) and twice == 0 and left == 0 and not dead and swept and accepted
        print("PASS" if ok else f"FAIL (logs in {folder}/processes.log)")
        if not ok:
            keep.append(True)
            logs.flush()
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
