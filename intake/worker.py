"""The worker process: an RQ worker with its scheduler, and a cron process for the sweeps."""

import logging
import multiprocessing

from redis import Redis
from rq import Worker
from rq.cron import CronScheduler

from intake.callbacks.tasks import sweep_callbacks
from intake.extensions import db
from intake.logconfig import configure_logging
from intake.redis_conn import get_queue, get_redis, redis_url
from intake.sms.tasks import sweep_lost_parts
from notify.tasks import sweep_unsent
from routing.services import refresh_router
from routing.sweeps import sweep_clocks
from routing.tasks import sweep_unrouted

log = logging.getLogger(__name__)


def periodic_jobs(app) -> list[tuple]:
    """(function, interval in seconds) for every sweep the platform runs."""
    return [
        (sweep_unrouted, app.config["ROUTING_SWEEP_INTERVAL"]),
        (sweep_clocks, app.config["CLOCK_SWEEP_INTERVAL"]),
        (sweep_callbacks, app.config["CLOCK_SWEEP_INTERVAL"]),
        (sweep_unsent, app.config["NOTIFY_SWEEP_INTERVAL"]),
        (sweep_lost_parts, app.config["NOTIFY_SWEEP_INTERVAL"]),
    ]


def run_cron(url: str, queue_name: str, jobs: list[tuple]) -> None:
    """Enqueue the periodic jobs on their intervals (RQ's CronScheduler); sweeps are idempotent."""
    scheduler = CronScheduler(connection=Redis.from_url(url))
    for func, interval in jobs:
        scheduler.register(func, queue_name, interval=interval)
    scheduler.start()


class IntakeWorker(Worker):
    """Keeps the router fresh in the parent, so the work horses it forks inherit it ready-built."""

    app = None

    def execute_job(self, job, queue):
        _warm_router(self.app)
        return super().execute_job(job, queue)


def _warm_router(app) -> None:
    with app.app_context():
        if refresh_router():
            db.session.remove()
            db.engine.dispose()  # each work horse opens its own database connections


def run_worker(app, burst: bool = False, cron: bool = True) -> None:
    configure_logging(app.config["LOG_LEVEL"])  # before the forks: cron process and work horses inherit it
    queue = get_queue(app)
    _warm_router(app)
    cron_process = None
    if cron:
        cron_process = multiprocessing.get_context("fork").Process(
            target=run_cron, args=(redis_url(app), queue.name, periodic_jobs(app)), daemon=True
        )
        cron_process.start()
    try:
        worker = IntakeWorker([queue], connection=get_redis(app))
        worker.app = app
        worker.work(with_scheduler=True, burst=burst)
    finally:
        if cron_process is not None:
            cron_process.terminate()
            cron_process.join(5)
