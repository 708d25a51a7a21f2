"""Count the SQL statements and Redis round trips of one routing job, and profile routing jobs.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rt_count REDIS_URL=redis://127.0.0.1:6379/8 \
      .venv/bin/python benchmarks/count_routing.py [--jobs 200] [--profile out.prof] [--staff]

Migrates and seeds the named database (default: a temporary SQLite file and the embedded
redis-server), files --jobs cases with the four texts of bench_worker_routing.py, then runs their
routing jobs one by one through the project's worker (`IntakeWorker`, a SimpleWorker: each job in
this process, as `flask worker` runs them), counting as count_filing.py does: SQL statements with a
`before_cursor_execute` listener, Redis round trips by wrapping `execute_command` and pipelines'
`execute`. The first jobs warm the process (the router, the reference cache); the last one's
statements and round trips are printed, with the CPU time (`time.process_time()`) of every job
after the warm-up: median and p95. `--staff` adds a department user and a township user (phone and
mail) for each department and township, so a dispatch queues messages as it would in production.
`--profile FILE` writes a cProfile of the measured jobs (read it with `python -m pstats FILE`).
`--loop` runs the jobs after the warm-up in RQ's own work loop (`work(burst=True)`: dequeue,
heartbeats and RQ's log lines included) and prints its CPU per job instead.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TEXTS = [
    ("好日子大药房", "永嘉县瓯北街道罗浮大街{}号", "买的感冒药过期了，店员不肯退。"),
    ("江边农资店", "永嘉县桥头镇{}号", "买的复合肥是假的，庄稼不长。"),
    ("", "海宁市许村镇{}号", "送气工送来的液化气钢瓶漏气，过期没检测。"),
    ("小鱼美发", "连云区连云街道{}号", "办了会员卡，店关门不退钱。"),
]
WARM_UP = 8


def add_staff() -> None:
    """One department user per department and one township user per township, on duty."""
    from intake.accounts.models import Role, User
    from intake.extensions import db
    from intake.reference.models import Department, Division, DivisionLevel

    n = 0
    for dept in db.session.scalars(db.select(Department)):
        n += 1
        db.session.add(
            User(
                username=f"dept{n}",
                display_name=f"部门{n}",
                role=Role.DEPARTMENT,
                department_id=dept.id,
                county_code=dept.county_code,
                phone=f"+86139{n:08d}",
                email=f"dept{n}@example.com",
                password_hash="x",
            )
        )
    for town in db.session.scalars(db.select(Division).filter_by(level=DivisionLevel.TOWNSHIP)):
        n += 1
        db.session.add(
            User(
                username=f"town{n}",
                display_name=f"乡镇{n}",
                role=Role.TOWNSHIP,
                township_code=town.code,
                county_code=town.parent_code,
                phone=f"+86139{n:08d}",
                email=f"town{n}@example.com",
                password_hash="x",
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--profile", help="write a cProfile of the measured jobs here")
    parser.add_argument("--staff", action="store_true", help="staff on duty for every department and township")
    parser.add_argument("--show", action="store_true", help="print the last job's statements and commands")
    parser.add_argument("--loop", action="store_true", help="after the warm-up, run the rest in RQ's own work loop")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="count-routing-")
    os.environ.setdefault("INSTANCE_PATH", tmp)

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from redis.client import Pipeline, Redis

    from intake import create_app
    from intake.cases.models import CaseKind, Channel
    from intake.cases.services import Submission, submit_case
    from intake.extensions import db
    from intake.redis_conn import QUEUE_KINDS, get_queue
    from intake.seeding import seed_all

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/count.sqlite3",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "RQ_QUEUE": "intake-count-routing",
            "NOTIFY_QUIET_HOURS": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        meta.drop_all(bind=db.engine)
        upgrade()
        seed_all()
        if args.staff:
            add_staff()
        db.session.commit()
        for kind in QUEUE_KINDS:
            get_queue(app, kind=kind).empty()
        for i in range(args.jobs):
            name, address, text = TEXTS[i % len(TEXTS)]
            submit_case(
                Submission(
                    kind=CaseKind.COMPLAINT,
                    channel=Channel.API,
                    description=text,
                    business_name=name,
                    business_address=address.format(i),
                    complainant_name="测",
                    complainant_phone=f"+86138{i:08d}",
                )
            )
            db.session.commit()  # one filing per commit: its routing job is enqueued after it
        routing = get_queue(app, kind="routing")
        print(f"{len(routing)} routing jobs queued")

    statements: list[str] = []
    redis_calls: list[str] = []
    counting = [False]

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if counting[0]:
            statements.append(" ".join(statement.split())[:140])

    plain, piped = Redis.execute_command, Pipeline.execute

    def counted(self, *a, **options):
        if counting[0] and not isinstance(self, Pipeline):
            redis_calls.append(" ".join(str(x) for x in a[:2]))
        return plain(self, *a, **options)

    def counted_pipeline(self, *a, **kwargs):
        if counting[0]:
            redis_calls.append("PIPELINE[" + ", ".join(str(c[0][0]) for c in self.command_stack) + "]")
        return piped(self, *a, **kwargs)

    Redis.execute_command, Pipeline.execute = counted, counted_pipeline

    with app.app_context():  # as `flask worker` runs it: inside the app's context (the CLI pushes it)
        run_jobs(app, args, statements, redis_calls, counting)


def run_jobs(app, args, statements, redis_calls, counting) -> None:
    from redis import Redis

    from intake.redis_conn import queue_name, redis_url
    from intake.worker import IntakeWorker, _warm_router

    connection = Redis.from_url(redis_url(app))
    worker = IntakeWorker([queue_name("routing", app)], connection=connection)
    worker.app = app
    _warm_router(app)
    queue = worker.queues[0]
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, as the numbers printed, not wall time
    cpu: list[float] = []
    per_job: list[tuple[int, int]] = []
    done = 0
    while True:
        if args.loop and done >= WARM_UP:
            remaining = len(queue)
            worker = IntakeWorker([queue_name("routing", app)], connection=connection)  # a new name to register
            worker.app = app
            if profiler:
                profiler.enable()
            started = time.process_time()
            worker.work(burst=True)
            used = time.process_time() - started
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            print(f"RQ's work loop (burst), {remaining} jobs: {used * 1000 / max(1, remaining):.1f} ms CPU per job")
            return
        job = queue.dequeue_any([queue], None, connection=connection)
        if job is None:
            break
        job = job[0]
        measured = done >= WARM_UP
        statements.clear()
        redis_calls.clear()
        counting[0] = True
        if measured and profiler:
            profiler.enable()
        started = time.process_time()
        worker.execute_job(job, queue)
        cpu.append(time.process_time() - started)
        if measured and profiler:
            profiler.disable()
        counting[0] = False
        per_job.append((len(statements), len(redis_calls)))
        done += 1
    measured_cpu = sorted(cpu[WARM_UP:])
    print(
        f"{done} jobs; the last: {len(statements)} SQL statements, {len(redis_calls)} Redis round trips "
        f"(of which route_case's own and RQ's bookkeeping)"
    )
    sql_counts = sorted(s for s, _r in per_job[WARM_UP:])
    print(f"SQL statements per job after warm-up: median {statistics.median(sql_counts)}, max {sql_counts[-1]}")
    print(
        f"worker CPU per job (process_time, {len(measured_cpu)} jobs after {WARM_UP} warm-up): "
        f"median {statistics.median(measured_cpu) * 1000:.1f} ms, "
        f"p95 {measured_cpu[int(len(measured_cpu) * 0.95) - 1] * 1000:.1f} ms"
    )
    if args.show:
        for s in statements:
            print("  SQL  ", s)
        for r in redis_calls:
            print("  REDIS", r)
    if profiler:
        profiler.dump_stats(args.profile)
        print(f"profile of {len(measured_cpu)} jobs in {args.profile}")


if __name__ == "__main__":
    main()
