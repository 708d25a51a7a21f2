"""The worker process: an RQ worker with its scheduler, and a cron process for the sweeps."""
import logging
import multiprocessing

from redis import Redis
from rq import Worker
from rq.cron import CronScheduler

from intake.extensions import db
from intake.redis_conn import get_queue, get_redis, redis_url

log = logging.getLogger(__name__)


def periodic_jobs(app) -> list[tuple]:
    """(function, interval in seconds) for every sweep the platform runs."""
    from routing.tasks import sweep_unrouted

    return [(sweep_unrouted, app.config["ROUTING_SWEEP_INTERVAL"])]


def run_cron(url: str, queue_name: str, jobs: list[tuple]) -> None:
    """Enqueue the periodic jobs on their intervals (RQ's CronScheduler); sweeps are idempotent."""
    scheduler = CronScheduler(connection=Redis.from_url(url))
    for func, interval in jobs:
        scheduler.register(func, queue_name, interval=interval)
    scheduler.start()


def run_worker(app, burst: bool = False, cron: bool = True) -> None:
    from routing.services import get_router

    queue = get_queue(app)
    get_router()  # build once here; forked work horses inherit it
    db.session.remove()
    db.engine.dispose()  # each work horse opens its own database connections
    cron_process = None
    if cron:
        cron_process = multiprocessing.get_context("fork").Process(
            target=run_cron, args=(redis_url(app), queue.name, periodic_jobs(app)), daemon=True)
        cron_process.start()
    try:
        Worker([queue], connection=get_redis(app)).work(with_scheduler=True, burst=burst)
    finally:
        if cron_process is not None:
            cron_process.terminate()
            cron_process.join(5)
