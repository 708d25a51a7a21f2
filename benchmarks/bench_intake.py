"""POST /api/v1/cases under gunicorn, next to a bare Flask app that parses the JSON and does one INSERT.

    createdb -h 127.0.0.1 -U postgres intake_fast; createdb -h 127.0.0.1 -U postgres intake_fast_bare
    .venv/bin/python benchmarks/bench_intake.py \
        --database-url postgresql://postgres@127.0.0.1:5432/intake_fast \
        --bare-database-url postgresql://postgres@127.0.0.1:5432/intake_fast_bare \
        --redis-url redis://127.0.0.1:6379/13 [--throttles both] [--also OLD_CHECKOUT]

What it does, with a fixed configuration:
- migrates and seeds the project's database, empties the bare table, flushes the benchmark Redis db;
- starts each app under gunicorn: 4 sync workers, `wsgi:app` (the project) and
  `benchmarks/bare_app.py` (bare), each on its own port;
- the project runs as in production: APP_ENV=production with every PRODUCTION_REQUIRED secret set
  (random, per run), NOTIFY_SMS_BACKEND=http pointed at http://127.0.0.1:9/never-called and
  NOTIFY_MAIL_BACKEND=smtp (production refuses the `log` gateways). Nothing is ever sent: no RQ worker
  runs, so the routing and receipt jobs just wait in Redis (flushed at the start of the next run);
- throttles on (as in production) and off. With them on, RATELIMIT_API_FILING is raised to
  "1000000 per minute;100000000 per day": the same two limits, so the same two Redis round trips per
  request, but a load generator on one address is not turned away with 429 after ten filings;
- saturation: wrk (-t2 -c16, a Lua script for the POST body) for --seconds per run, the apps
  interleaved A B A B … (--rounds), so that the noise of other work on the machine falls on both;
  requests/s per run and the median of the runs; the ratio project/bare from the same round;
- fixed rate: an open-loop generator (below) at --rate requests/s for --fixed-seconds, p50/p99;
- the 1-minute load average, sampled each second during each run (mean and max), and the RSS of each
  gunicorn worker after the runs.
"""

import argparse
import functools
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
BODY = {
    "kind": "complaint",
    "business_name": "好日子大药房",
    "business_address": "浙江省温州市永嘉县瓯北街道罗浮大街88号",
    "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
    "complainant": {"name": "李明", "phone": "13812345678"},
    "anonymous": False,
    "urgent": False,
}
GUNICORN = ["-w", "4", "-k", "sync", "--backlog", "2048", "--timeout", "30", "--log-level", "warning"]


def production_env(args, throttles: bool, root: str) -> dict:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "HOTLINE_TOKEN": secrets.token_hex(16),
        "SMS_WEBHOOK_SECRET": secrets.token_hex(16),
        "LOOKUP_CODE_KEY": secrets.token_hex(32),
        "METRICS_TOKEN": secrets.token_hex(16),
        "NOTIFY_SMS_BACKEND": "http",
        "NOTIFY_SMS_HTTP_URL": "http://127.0.0.1:9/never-called",  # no worker runs: never called
        "NOTIFY_MAIL_BACKEND": "smtp",
        "NOTIFY_QUIET_HOURS": "",  # the receipt goes "at once" (into the queue) at any hour of the run
        "THROTTLES_ENABLED": "true" if throttles else "false",
        "RATELIMIT_API_FILING": "1000000 per minute;100000000 per day",
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-intake-"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": root,
    }
    env.pop("FLASK_DEBUG", None)
    return env


def prepare(args) -> None:
    """Migrate and seed each checkout's database, and start it without cases (and so without messages)."""
    import psycopg

    checkouts = [(ROOT, args.database_url)] + ([(args.also, args.also_database_url)] if args.also else [])
    for root, url in checkouts:
        env = {**production_env(args, False, root), "DATABASE_URL": url}
        flask = [os.path.join(VENV_BIN, "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=root, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=root, env=env, check=True, capture_output=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('TRUNCATE "case", case_event, message CASCADE')
    bare_env = {**os.environ, "BARE_DATABASE_URL": args.bare_database_url}
    subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bare_app.py")], env=bare_env, check=True)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()


class Server:
    def __init__(self, name: str, port: int, cmd: list[str], env: dict, cwd: str):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/none", timeout=1)
            except urllib.error.HTTPError:
                break  # 404/405: it answers
            except OSError:
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"{name} did not start on port {port}")
        for _ in range(20):  # each worker imports lazily what the first filing needs
            post(port)

    def worker_rss_mb(self) -> list[float]:
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        sizes = []
        for pid in children:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def worker_cpu_seconds(self) -> float:
        """user + system CPU of the workers so far: per request, a figure the machine's noise barely moves."""
        total = 0
        for pid in subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split():
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # gunicorn's master and its workers: our own group
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def body_with_a_phone() -> str:
    """BODY from another citizen each time: one number for every filing would make each filing count
    (the daily SMS cap per number) a growing pile of that number's messages, which no real day has."""
    return json.dumps(BODY, ensure_ascii=False).replace(PHONE, f"138{secrets.randbelow(10**8):08d}")


PHONE = BODY["complainant"]["phone"]
# wrk: the same body with the phone's last 8 digits drawn per request
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = "%s"
request = function()
  local body = template:gsub("PHONE", string.format("138%%08d", math.random(0, 99999999)))
  return wrk.format(nil, nil, nil, body)
end
"""


def post(port: int, timeout: float = 10) -> int:
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST", "/api/v1/cases", body=body_with_a_phone().encode(), headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class LoadSampler:
    """The 1-minute load average once a second while a run lasts."""

    def __init__(self):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            with open("/proc/loadavg") as fh:
                self.samples.append(float(fh.read().split()[0]))
            self._stop.wait(1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def text(self) -> str:
        return f"load {statistics.mean(self.samples):.2f} mean / {max(self.samples):.2f} max"


def wrk(port: int, seconds: int, script: str) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", script, f"http://127.0.0.1:{port}/api/v1/cases"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": 0.0, "bad": 0, "requests": 0}
    for line in out.splitlines():
        line = line.strip()
        if " requests in " in line:
            result["requests"] = int(line.split()[0])
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        elif line.startswith("Non-2xx or 3xx responses:"):
            result["bad"] = int(line.split()[-1])
        elif "Socket errors" in line:
            result["socket_errors"] = line
    return result


def open_loop(send, rate: float, seconds: float, senders: int = 32) -> dict:
    """Requests (`send()`, which returns the status) at fixed times (start + i/rate), latency measured
    from the scheduled time.

    Why this is a fair stand-in for wrk2 (not in Debian): the schedule does not wait for answers
    (open loop), so a slow answer does not slow the offered rate, and a request that could not be
    sent on time (every sender busy with slow answers) is charged from when it should have gone:
    that is the coordinated-omission correction wrk2 makes. 32 threads at 50 requests/s leave room
    for answers up to 0.6 s before a request is sent late, and being late is then counted, not hidden.
    Each request opens its own connection, as gunicorn's sync workers close it after each answer.
    The generator costs a little CPU of its own on the same cores; both apps pay it alike.
    """
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    errors = [0]
    counter = iter(range(total))
    lock = threading.Lock()

    def sender():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                ok = send() == 201
            except OSError:
                ok = False
            done = time.perf_counter()
            with lock:
                latencies.append(done - scheduled)
                errors[0] += not ok

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": latencies[-1] * 1000,
        "errors": errors[0],
        "n": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/intake_fast")
    parser.add_argument("--bare-database-url", default="postgresql://postgres@127.0.0.1:5432/intake_fast_bare")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8101, help="the project; bare +1, --also +2")
    parser.add_argument("--seconds", type=int, default=15, help="each saturating wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds at saturation")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--fixed-seconds", type=float, default=20)
    parser.add_argument("--throttles", choices=["on", "off", "both"], default="both")
    parser.add_argument("--also", help="another checkout of the project (e.g. the commit before) to run alongside")
    parser.add_argument(
        "--also-database-url",
        default="postgresql://postgres@127.0.0.1:5432/intake_fast_before",
        help="its own database: its migrations are its own",
    )
    args = parser.parse_args()

    prepare(args)
    script = os.path.join(tempfile.mkdtemp(prefix="bench-wrk-"), "post.lua")
    with open(script, "w") as fh:
        body = json.dumps(BODY, ensure_ascii=False).replace(PHONE, "PHONE").replace("\\", "\\\\").replace('"', '\\"')
        fh.write(LUA % body)
    gunicorn = os.path.join(VENV_BIN, "gunicorn")
    bare_env = {**os.environ, "BARE_DATABASE_URL": args.bare_database_url}
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.throttles]
    print(
        f"commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()}, "
        f"{os.cpu_count()} cores, wrk -t2 -c16 -d{args.seconds}s, {args.rounds} rounds, open loop {args.rate:g}/s for {args.fixed_seconds:g}s"
    )
    for throttles in modes:
        apps = [("project", ROOT, args.port)]
        if args.also:
            apps.append(("before", args.also, args.port + 2))
        servers = []
        try:
            for name, root, port in apps:
                cmd = [gunicorn, *GUNICORN, "-b", f"127.0.0.1:{port}", "--chdir", root, "wsgi:app"]
                env = production_env(args, throttles, root)
                if name == "before":
                    env["DATABASE_URL"] = args.also_database_url
                servers.append(Server(name, port, cmd, env, root))
            bare_cmd = [
                gunicorn,
                *GUNICORN,
                "-b",
                f"127.0.0.1:{args.port + 1}",
                "--chdir",
                os.path.join(ROOT, "benchmarks"),
                "bare_app:app",
            ]
            servers.append(Server("bare", args.port + 1, bare_cmd, bare_env, ROOT))
            print(f"\n## throttles {'on' if throttles else 'off'}")
            rps: dict[str, list[float]] = {s.name: [] for s in servers}
            for round_no in range(args.rounds):
                for server in servers:
                    cpu = server.worker_cpu_seconds()
                    with LoadSampler() as load:
                        result = wrk(server.port, args.seconds, script)
                    cpu_ms = (server.worker_cpu_seconds() - cpu) * 1000 / max(1, result["requests"])
                    rps[server.name].append(result["rps"])
                    extra = f", {result['bad']} non-2xx" if result["bad"] else ""
                    print(
                        f"saturation round {round_no + 1} {server.name:8s} {result['rps']:8.1f} req/s{extra}  "
                        f"worker CPU {cpu_ms:5.1f} ms/request  ({load.text()})"
                    )
                bare = rps["bare"][-1]
                print(
                    "  ratio this round: " + ", ".join(f"{n}/bare {rps[n][-1] / bare:.1%}" for n in rps if n != "bare")
                )
            for server in servers:
                with LoadSampler() as load:
                    fixed = open_loop(functools.partial(post, server.port), args.rate, args.fixed_seconds)
                print(
                    f"open loop {args.rate:g}/s {server.name:8s} p50 {fixed['p50']:6.1f} ms  p99 {fixed['p99']:6.1f} ms  "
                    f"max {fixed['max']:6.1f} ms  {fixed['errors']} errors of {fixed['n']}  ({load.text()})"
                )
            print("median req/s: " + ", ".join(f"{n} {statistics.median(v):.1f}" for n, v in rps.items()))
            bare = statistics.median(rps["bare"])
            print(
                "median ratio: "
                + ", ".join(f"{n}/bare {statistics.median(v) / bare:.1%}" for n, v in rps.items() if n != "bare")
            )
            for server in servers:
                sizes = server.worker_rss_mb()
                print(f"worker RSS {server.name:8s} " + " ".join(f"{s:.0f}" for s in sizes) + " MB")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
