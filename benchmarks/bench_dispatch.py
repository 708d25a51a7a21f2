"""Submit → dispatched under load, the routing job's CPU in the workers, and the drain rate (issue 13).

    createdb -h 127.0.0.1 -U postgres rt_bench
    .venv/bin/python benchmarks/bench_dispatch.py \
        --database-url postgresql://postgres@127.0.0.1:5432/rt_bench --redis-url redis://127.0.0.1:6379/8 \
        [--root OTHER_CHECKOUT] [--rate 20] [--seconds 30] [--backlog 2000] [--no-staff]

`--root` runs another checkout of the project (e.g. `git archive main | tar -x -C /tmp/rt_before`)
with this venv's packages; the script prints which `intake` package the processes import.

What it does, with a fixed configuration:
- migrates and seeds the database, empties the case tables and the Redis db, and (unless
  --no-staff) adds on-duty staff with a phone and a mail address: one department user per
  department and one township user per township, so that a dispatch queues its four duty messages
  as it does in production;
- starts the project as bench_intake.py does: gunicorn, 4 sync workers, APP_ENV=production with
  random secrets, throttles on (the filing limit raised), NOTIFY_SMS_BACKEND=http at a dead URL,
  mail over SMTP to a dead port; and two `flask --app wsgi worker` processes (all queues, routing
  first, with cron), LOG_LEVEL=INFO as in production (their log goes to a file);
- the filings: four stories (pharmacy, farm supplies, bottled gas, hairdresser) about --shops
  shops (a shop gets a few cases, and the duplicate check compares each with that shop's open
  cases), each from another phone number;
- part 1, latency: --rate filings/s for --seconds through POST /api/v1/cases (bench_intake's
  open-loop generator) with both workers running; "dispatched" is the `at` of the case's event
  that moved it out of `received` (route or to_triage), compared with the case's received_at;
  p50/p95/max over the cases of the run; also the workers' CPU (/proc/PID/stat utime+stime)
  divided by the cases routed, which includes the message jobs the workers ran meanwhile;
- part 2, drain: the workers stopped, --backlog cases filed (8 clients at once), the workers
  started suspended (RQ's suspension: the router is built, the queues wait), their CPU noted,
  then resumed: cases routed per second until none is left in `received`. The routing queue comes
  first, so while it drains the workers run routing jobs only (and a sweep now and then): their
  CPU per routing job is read each second (CPU used ÷ cases routed in that second, both workers;
  only the seconds that ended with routing jobs still queued, so neither worker ran anything
  else), median and p95 over the seconds, and over the whole drain (its tail includes the first
  message jobs);
- the 1-minute load average, sampled each second during each part (mean and max).
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection

import psycopg
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_intake import GUNICORN, VENV_BIN, LoadSampler, Server, open_loop, production_env  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORIES = [  # (shop, address, story): the texts of bench_worker_routing.py
    ("好日子大药房", "浙江省温州市永嘉县瓯北街道罗浮大街{}号", "买的感冒药过期了，店员不肯退。"),
    ("江边农资店", "浙江省温州市永嘉县桥头镇{}号", "买的复合肥是假的，庄稼不长。"),
    ("", "浙江省嘉兴市海宁市许村镇{}号", "送气工送来的液化气钢瓶漏气，过期没检测。"),
    ("小鱼美发", "江苏省连云港市连云区连云街道{}号", "办了会员卡，店关门不退钱。"),
]


def body(shops: int) -> bytes:
    import json

    n = random.randrange(shops)
    name, address, story = STORIES[n % len(STORIES)]
    return json.dumps(
        {
            "kind": "complaint",
            "business_name": f"{name}{n}分店" if name else "",
            "business_address": address.format(n + 1),
            "description": story,
            "complainant": {"name": "李明", "phone": f"138{random.randrange(10**8):08d}"},
            "anonymous": False,
            "urgent": False,
        },
        ensure_ascii=False,
    ).encode()


def post(port: int, shops: int) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/v1/cases", body=body(shops), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def closed_loop(port: int, total: int, shops: int, clients: int = 8) -> tuple[int, float]:
    counter = iter(range(total))
    lock = threading.Lock()
    errors = [0]

    def client():
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            try:
                ok = post(port, shops) == 201
            except OSError:
                ok = False
            if not ok:
                with lock:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors[0], time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """Two `flask --app wsgi worker` processes."""

    def __init__(self, root: str, env: dict, log_path: str, n: int = 2):
        self.log = open(log_path, "ab")
        flask = os.path.join(VENV_BIN, "flask")
        self.procs = [
            subprocess.Popen(
                [flask, "--app", "wsgi", "worker"],
                cwd=root,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for _ in range(n)
        ]

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.log.close()


def prepare(args, root: str, env: dict) -> None:
    flask = [os.path.join(VENV_BIN, "flask"), "--app", "wsgi"]
    setup_env = {**env, "THROTTLES_ENABLED": "false"}
    for command in (["db", "upgrade"], ["seed"]):
        done = subprocess.run([*flask, *command], cwd=root, env=setup_env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute('TRUNCATE "case", case_event, message, business, staff_session, "user" CASCADE')
        if args.staff:
            conn.execute(
                """INSERT INTO "user" (username, display_name, password_hash, role, county_code, department_id,
                       township_code, phone, email, on_duty, active, created_at)
                   SELECT 'dept' || d.id, '部门值班' || d.id, 'x', 'department', d.county_code, d.id, NULL,
                          '+86139' || lpad(d.id::text, 8, '0'), 'dept' || d.id || '@example.com', true, true, now()
                   FROM department d"""
            )
            conn.execute(
                """INSERT INTO "user" (username, display_name, password_hash, role, county_code, department_id,
                       township_code, phone, email, on_duty, active, created_at)
                   SELECT 'town' || v.code, '乡镇值班' || v.code, 'x', 'township', v.parent_code, NULL, v.code,
                          '+86137' || right(v.code, 8), 'town' || v.code || '@example.com', true, true, now()
                   FROM division v WHERE v.level = 'township'"""
            )
    redis.Redis.from_url(args.redis_url).flushdb()


def count_received(conn, since_id: int) -> int:
    query = "SELECT count(*) FROM \"case\" WHERE status = 'received' AND id > %s"
    return conn.execute(query, (since_id,)).fetchone()[0]


def max_case_id(conn) -> int:
    return conn.execute('SELECT coalesce(max(id), 0) FROM "case"').fetchone()[0]


def dispatch_latencies(conn, since_id: int) -> list[float]:
    rows = conn.execute(
        """SELECT extract(epoch FROM min(e.at) - c.received_at)
           FROM "case" c JOIN case_event e ON e.case_id = c.id AND e.from_status = 'received'
           WHERE c.id > %s GROUP BY c.id, c.received_at""",
        (since_id,),
    ).fetchall()
    return sorted(float(r[0]) for r in rows)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def wait_until_routed(conn, since_id: int, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_received(conn, since_id) == 0:
            return True
        time.sleep(0.5)
    return False


def wait_for_workers(r: redis.Redis, n: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if r.scard("rq:workers") >= n:
            return
        time.sleep(0.5)
    raise RuntimeError("the workers did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/rt_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--root", default=ROOT, help="the checkout to run (default: this one)")
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--no-staff", dest="staff", action="store_false")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    random.seed(13)

    env = production_env(argparse.Namespace(database_url=args.database_url, redis_url=args.redis_url), True, root)
    env.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "9"})  # a dead port: nothing is ever sent
    worker_env = {**env, "LOG_LEVEL": "INFO"}
    prepare(args, root, env)
    which = subprocess.run(
        [sys.executable, "-c", "import intake, sys; print(intake.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    print(
        f"root {root} (commit {commit.stdout.strip() or 'n/a'}), intake from {which}; {os.cpu_count()} cores; "
        f"staff {'on' if args.staff else 'off'}; {args.shops} shops"
    )
    r = redis.Redis.from_url(args.redis_url)
    log_dir = tempfile.mkdtemp(prefix="bench-dispatch-")
    gunicorn = os.path.join(VENV_BIN, "gunicorn")
    server = Server(
        "project",
        args.port,
        [gunicorn, *GUNICORN, "-b", f"127.0.0.1:{args.port}", "--chdir", root, "wsgi:app"],
        env,
        root,
    )
    workers = None
    try:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            # part 1: latency at a fixed rate with both workers running
            workers = Workers(root, worker_env, os.path.join(log_dir, "workers-1.log"))
            wait_for_workers(r, 2)
            for _ in range(20):  # warm-up: the workers' first jobs, gunicorn's first filings
                post(args.port, args.shops)
            if not wait_until_routed(conn, 0, 120):
                raise RuntimeError("the warm-up cases were not routed")
            time.sleep(2)
            since = max_case_id(conn)
            cpu = workers.cpu()
            with LoadSampler() as load:
                filed = open_loop(lambda: post(args.port, args.shops), args.rate, args.seconds)
                routed_all = wait_until_routed(conn, since, 120)
            used = workers.cpu() - cpu
            lat = dispatch_latencies(conn, since)
            print(
                f"\n## part 1: {args.rate:g} filings/s for {args.seconds:g} s, 2 workers ({load.text()})\n"
                f"filed {filed['n']} ({filed['errors']} errors, POST p95 {filed['p95']:.0f} ms); "
                f"dispatched {len(lat)}{'' if routed_all else ' (NOT ALL: timed out)'}\n"
                f"submit -> dispatched: p50 {pct(lat, 50) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, "
                f"max {lat[-1] * 1000:.0f} ms\n"
                f"worker CPU {used:.2f} s = {used * 1000 / max(1, len(lat)):.1f} ms per case routed "
                f"(with the message jobs run meanwhile)"
            )
            workers.stop()
            workers = None

            # part 2: a backlog filed with no worker, then drained by two
            since = max_case_id(conn)
            with LoadSampler() as load:
                errors, took = closed_loop(args.port, args.backlog, args.shops)
            routing_key = f"rq:queue:{env.get('RQ_QUEUE', 'intake')}-routing"
            queued = r.llen(routing_key)
            print(
                f"\n## part 2: backlog of {args.backlog} filed in {took:.1f} s ({errors} errors, "
                f"{count_received(conn, since)} cases waiting, {queued} routing jobs queued; {load.text()})"
            )
            from rq.suspension import resume, suspend

            suspend(r)
            workers = Workers(root, worker_env, os.path.join(log_dir, "workers-2.log"))
            wait_for_workers(r, 2)
            time.sleep(3)  # the router is built before the loop starts; let both settle
            windows: list[float] = []
            left = count_received(conn, since)
            cpu = workers.cpu()
            cpu_start = cpu
            with LoadSampler() as load:
                resume(r)
                started = time.perf_counter()
                while left:
                    time.sleep(1)
                    now_left = count_received(conn, since)
                    now_cpu = workers.cpu()
                    if left - now_left > 0 and r.llen(routing_key) >= 2:  # both busy routing all the second
                        windows.append((now_cpu - cpu) / (left - now_left))
                    left, cpu = now_left, now_cpu
                    if time.perf_counter() - started > 900:
                        break
                took = time.perf_counter() - started
            used = workers.cpu() - cpu_start
            windows.sort()
            drained = args.backlog - left
            print(
                f"drained {drained} in {took:.1f} s: {drained / took:.1f} cases routed/s with 2 workers ({load.text()})\n"
                f"routing CPU per job (both workers' CPU / cases routed, per 1-s window, {len(windows)} windows): "
                f"median {statistics.median(windows) * 1000:.1f} ms, p95 {pct(windows, 95) * 1000:.1f} ms; "
                f"whole drain {used * 1000 / max(1, drained):.1f} ms"
            )
            lat = dispatch_latencies(conn, since)
    finally:
        if workers is not None:
            workers.stop()
        server.stop()
    print(f"(worker logs in {log_dir})")


if __name__ == "__main__":
    main()
