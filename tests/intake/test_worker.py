"""The worker in this process: its queues in priority order, jobs run without a fork and under
RQ's job timeout, and sweeps that leave a job still queued alone."""

import os
import signal
import threading
import time
from types import SimpleNamespace

import sqlalchemy as sa
from rq.job import Job, JobStatus

from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from intake.jobs import JOB_QUEUES, queue_for
from intake.redis_conn import MESSAGES, ROUTING, SWEEPS, get_queue, get_queues, get_redis
from intake.worker import periodic_jobs, run_worker
from routing.tasks import sweep_unrouted
from tests.intake.test_api import PHARMACY


def file_case(client) -> int:
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.max(Case.id)))


def test_each_kind_of_work_has_its_queue_named_from_the_prefix(app):
    assert [q.name for q in get_queues(app)] == ["intake-test-routing", "intake-test-messages", "intake-test-sweeps"]
    assert queue_for("routing.tasks.route_case") == ROUTING
    assert queue_for("notify.tasks.send_message") == MESSAGES
    assert {queue_for(func) for func, _ in periodic_jobs(app)} == {SWEEPS}
    assert set(JOB_QUEUES.values()) <= {ROUTING, MESSAGES, SWEEPS}


def test_a_filed_case_waits_on_the_routing_queue_and_its_receipt_on_the_messages_queue(app, client):
    case_id = file_case(client)
    assert get_queue(app, ROUTING).get_job_ids() == [f"route-case-{case_id}"]
    assert get_queue(app, MESSAGES).get_job_ids() == [f"receipt-case-{case_id}"]
    assert get_queue(app, SWEEPS).count == 0


def test_the_sweep_leaves_a_still_queued_routing_job_alone_and_enqueues_a_lost_or_finished_one(app, client, run_jobs):
    case_id = file_case(client)
    routing = get_queue(app, ROUTING)

    assert sweep_unrouted() == 0  # its job is still queued: no second copy
    assert routing.get_job_ids() == [f"route-case-{case_id}"]

    # a worker took the job off the list as Redis went away: marked queued, in no queue
    get_redis(app).delete(routing.key)
    assert Job.fetch(f"route-case-{case_id}", connection=get_redis(app)).get_status() == JobStatus.QUEUED
    assert sweep_unrouted() == 1
    assert routing.get_job_ids() == [f"route-case-{case_id}"]

    assert run_jobs() >= 1  # the routing job and the receipt
    assert db.session.get(Case, case_id).status is not CaseStatus.RECEIVED
    # a finished job is no reason to wait: a case received again (a reroute) gets a new run
    db.session.execute(sa.update(Case).where(Case.id == case_id).values(status=CaseStatus.RECEIVED))
    db.session.commit()
    assert sweep_unrouted() == 1
    assert routing.get_job_ids() == [f"route-case-{case_id}"]


def test_jobs_run_in_the_workers_own_process_routing_first(app, client):
    get_queue(app, MESSAGES).enqueue(time.time, job_id="message-first")
    case_id = file_case(client)
    get_queue(app, ROUTING).enqueue(os.getpid, job_id="where-am-i")
    assert run_worker(app, burst=True) == 0
    redis = get_redis(app)
    assert Job.fetch("where-am-i", connection=redis).return_value() == os.getpid()  # no work horse
    routed = Job.fetch(f"route-case-{case_id}", connection=redis)
    message = Job.fetch("message-first", connection=redis)
    assert routed.get_status() == JobStatus.FINISHED and message.get_status() == JobStatus.FINISHED
    assert routed.ended_at <= message.started_at  # routing before the message enqueued earlier
    assert db.session.get(Case, case_id).status is not CaseStatus.RECEIVED


def test_a_job_over_its_timeout_is_stopped_and_the_worker_goes_on(app, client):
    routing = get_queue(app, ROUTING)
    routing.enqueue(time.sleep, 10, job_id="too-long", job_timeout=1)
    routing.enqueue(os.getpid, job_id="after")
    started = time.monotonic()
    assert run_worker(app, burst=True) == 0
    assert time.monotonic() - started < 8
    redis = get_redis(app)
    slow = Job.fetch("too-long", connection=redis)
    assert slow.get_status() == JobStatus.FAILED and "JobTimeoutException" in slow.latest_result().exc_string
    assert Job.fetch("after", connection=redis).return_value() == os.getpid()


def test_flask_worker_queues_picks_the_kinds_of_work(app, client):
    get_queue(app, MESSAGES).enqueue(time.time, job_id="a-message")
    case_id = file_case(client)
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "--queues", "routing"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert db.session.get(Case, case_id).status is not CaseStatus.RECEIVED
    left = get_queue(app, MESSAGES).get_job_ids()  # for a messages worker: ours and the receipt
    assert left == ["a-message", f"receipt-case-{case_id}"]

    result = app.test_cli_runner().invoke(args=["worker", "--burst", "--queues", "routing,mail"])
    assert result.exit_code != 0 and "mail" in result.output


def test_the_work_loop_starts_the_schedulers_thread_again_when_it_died(app, monkeypatch, caplog):
    from intake import worker as worker_module

    monkeypatch.setattr(worker_module, "WORKER_TTL", 16)  # RQ's dequeue waits TTL - 15 s: a beat every second
    started = []
    run = worker_module.SchedulerThread.run

    def dies_the_first_time(thread):
        started.append(thread)
        if len(started) == 1:
            raise RuntimeError("the schedulers' thread dies")
        run(thread)

    monkeypatch.setattr(worker_module.SchedulerThread, "run", dies_the_first_time)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # that death is what the test is about
    sweeps = get_queue(app, SWEEPS)

    def swept() -> list[str]:
        return [
            Job.fetch(i, connection=sweeps.connection).func_name for i in sweeps.finished_job_registry.get_job_ids()
        ]

    def stop_once_swept():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "routing.tasks.sweep_unrouted" not in swept():
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)  # the work loop's own handler stops it

    threading.Thread(target=stop_once_swept, daemon=True).start()
    assert run_worker(app) == 0
    assert len(started) == 2 and not started[0].is_alive()
    assert started[1].rounds == 1  # the new thread ran the schedulers…
    assert "routing.tasks.sweep_unrouted" in swept()  # …and the periodic sweeps were enqueued and run
    assert "the schedulers' thread died; starting it again" in caplog.text


def test_a_work_loop_that_keeps_quitting_with_redis_up_ends_the_worker_non_zero(app, monkeypatch, caplog):
    from intake import worker as worker_module

    monkeypatch.setattr(worker_module, "time", SimpleNamespace(sleep=lambda s: None, monotonic=time.monotonic))
    loops = []

    def fails(worker, *args, **kwargs):
        loops.append(worker)
        if len(loops) > 3 * worker_module.CRASHES_ALLOWED:  # without the limit the worker would go on for ever
            os.kill(os.getpid(), signal.SIGTERM)
        raise ValueError("a bug outside any job")  # RQ: "found an unhandled exception, quitting"

    monkeypatch.setattr(worker_module.IntakeWorker, "dequeue_job_and_maintain_ttl", fails)
    assert run_worker(app, cron=False) == 1
    assert len(loops) == worker_module.CRASHES_ALLOWED + 1
    assert "exiting for the supervisor" in caplog.text

    loops.clear()
    result = app.test_cli_runner().invoke(args=["worker", "--no-cron"])
    assert result.exit_code == 1, result.output
    assert len(loops) == worker_module.CRASHES_ALLOWED + 1


def test_a_busy_worker_beats_about_once_a_second_not_five_times_a_job_and_stays_seen_alive(app, monkeypatch):
    from redis.client import Pipeline

    from intake.redis_conn import queue_name
    from intake.worker import WORKER_TTL, IntakeWorker

    redis = get_redis(app)
    routing = get_queue(app, ROUTING)
    for i in range(40):
        routing.enqueue(time.time, job_id=f"quick-{i}")
    beats, piped = [], Pipeline.execute

    def execute(pipe, *args, **kwargs):
        if any(
            c[0][:2] == ("HSET", f"rq:worker:{worker.name}") and "last_heartbeat" in c[0] for c in pipe.command_stack
        ):
            beats.append(pipe.transaction)
        return piped(pipe, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", execute)
    worker = IntakeWorker([queue_name(ROUTING, app)], connection=redis, worker_ttl=WORKER_TTL)  # as run_worker
    worker.app = app
    started = time.monotonic()
    worker.work(burst=True)
    seconds = time.monotonic() - started
    assert all(Job.fetch(f"quick-{i}", connection=redis).get_status() == JobStatus.FINISHED for i in range(40))
    on_their_own = beats.count(False)  # the beats sent alone (the others ride on RQ's own pipelines)
    assert on_their_own <= 2 + 2 * seconds, (on_their_own, seconds)  # RQ alone: 3 round trips for each job
    assert len(beats) >= 40  # each job's start still beats, in RQ's pipeline that starts it
    assert redis.hget(worker.key, "last_heartbeat")  # what `rq info` and /readyz read


def test_the_sweep_routes_the_case_of_a_worker_that_died_with_its_job_once_the_job_is_overdue(app, client, run_jobs):
    from datetime import datetime, timedelta, timezone

    case_id = file_case(client)
    routing = get_queue(app, ROUTING)
    job = routing.fetch_job(f"route-case-{case_id}")
    assert job.timeout == app.config["ROUTING_JOB_TIMEOUT"]  # the routing queue's short timeout
    # a worker took it and was SIGKILLed: marked started, in no queue, and nothing will finish it
    routing.remove(job)
    job.started_at = datetime.now(timezone.utc) - timedelta(seconds=2)
    job.set_status(JobStatus.STARTED)
    job.save()
    assert sweep_unrouted() == 0  # started just now: it may still be running

    job.started_at = datetime.now(timezone.utc) - timedelta(seconds=job.timeout + 10)
    job.save()  # longer ago than RQ lets it run: its worker is gone
    assert sweep_unrouted() == 1
    assert routing.get_job_ids() == [f"route-case-{case_id}"]
    assert run_jobs() >= 1
    assert db.session.get(Case, case_id).status is not CaseStatus.RECEIVED
