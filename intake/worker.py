"""The worker process: an RQ SimpleWorker (jobs run in this process, under RQ's job timeout) on the
routing, messages and sweeps queues in that order, and one thread for RQ's scheduler and the cron
of the periodic sweeps.

It outlives Redis and database outages of any length. RQ's own loop quits on the first Redis error
it meets outside its dequeue (the "found an unhandled exception, quitting" of an outage while busy),
so the worker turns every Redis error into a quiet stop of RQ's loop (RedisLost), and `run_worker`
waits for Redis with backoff (logging the outage once, and its end) and starts it again; the job in
hand when Redis went away is put back on its queue (jobs check state first, so a rerun changes
nothing), and what is lost anyway the sweeps find. A job that fails because the database is away
fails like any job, and its sweep enqueues it again. The schedulers' thread starts itself again
after an error, and the work loop starts a new one if it dies. Only a worker whose loop keeps
quitting with Redis up exits, non-zero, for its supervisor (systemd, honcho) to start again.
"""

import logging
import signal
import threading
import time

from flask import has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import InvalidJobOperation, StopRequested
from rq.job import JobStatus
from rq.queue import Queue
from rq.scheduler import RQScheduler

from intake.callbacks.tasks import sweep_callbacks
from intake.extensions import db
from intake.jobs import queue_for
from intake.logconfig import configure_logging
from intake.redis_conn import QUEUE_KINDS, SWEEPS, queue_name, redis_url
from intake.sms.tasks import sweep_lost_parts
from notify.tasks import sweep_unsent
from routing.services import refresh_router
from routing.sweeps import sweep_clocks
from routing.tasks import sweep_unrouted

log = logging.getLogger(__name__)
WORKER_TTL = 35  # seconds: the worker wakes from its blocking dequeue every 20 s to beat and watch its schedulers
BEAT_EVERY = 1.0  # seconds: a heartbeat this soon after the last is skipped (IntakeWorker.heartbeat)
MAINTENANCE_INTERVAL = 60  # seconds between RQ's registry cleanings (a dead worker's started jobs → failed)
BACKOFF_MAX = 30.0  # seconds between attempts to reach Redis during an outage
CRASHES_ALLOWED = 5  # quits of the work loop with Redis up, within CRASH_WINDOW, before the process gives up
CRASH_WINDOW = 300.0
CRON_LOCK = "intake:cron-lock:%s"  # (the sweeps queue) which worker's cron thread enqueues the sweeps
CRON_LOCK_TTL = 90


def periodic_jobs(app) -> list[tuple]:
    """(function, interval in seconds) for every sweep the platform runs."""
    return [
        (sweep_unrouted, app.config["ROUTING_SWEEP_INTERVAL"]),
        (sweep_clocks, app.config["CLOCK_SWEEP_INTERVAL"]),
        (sweep_callbacks, app.config["CLOCK_SWEEP_INTERVAL"]),
        (sweep_unsent, app.config["NOTIFY_SWEEP_INTERVAL"]),
        (sweep_lost_parts, app.config["NOTIFY_SWEEP_INTERVAL"]),
    ]


class Outage:
    """Says once that something is unreachable, and once that it is back (not a line per retry)."""

    def __init__(self, what: str):
        self.what, self.since = what, None

    def down(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s unreachable (%s); retrying with backoff until it is back", self.what, exc)

    def up(self) -> None:
        if self.since is not None:
            log.warning("%s is back after %.0f s", self.what, time.monotonic() - self.since)
            self.since = None


class RedisLost(StopRequested):
    """Raised inside RQ's work loop when Redis goes away: RQ ends its loop quietly on StopRequested."""


class _Cron(CronScheduler):
    """RQ's CronScheduler whose jobs only the holder of CRON_LOCK enqueues."""

    lock_key = CRON_LOCK % "intake"

    def enqueue_jobs(self):
        if not self._hold_lock():
            return []
        return super().enqueue_jobs()

    def _hold_lock(self) -> bool:
        # the loop wakes at least once a minute; a dead holder's lock lapses after CRON_LOCK_TTL
        if self.connection.set(self.lock_key, self.name, nx=True, ex=CRON_LOCK_TTL):
            return True
        if (self.connection.get(self.lock_key) or b"").decode() == self.name:
            self.connection.expire(self.lock_key, CRON_LOCK_TTL)
            return True
        return False


class SchedulerThread(threading.Thread):
    """RQ's two schedulers, run in one thread of the worker: the scheduler that enqueues jobs due
    later (enqueue_at, Retry intervals; RQScheduler, with its per-queue locks) and, unless the
    worker runs without cron, the periodic sweeps on their intervals (RQ's CronScheduler; of all
    the workers' cron threads, only the one holding CRON_LOCK enqueues). Their own loops are not
    used (RQScheduler's forks a process that dies with Redis; CronScheduler's sets signal
    handlers): this thread does each one's step once a second. A Redis error ends the round: the
    thread waits for Redis with backoff (logging the outage once) and starts both afresh; the
    work loop starts a new thread if this one dies."""

    def __init__(self, url: str, queue_names: list[str], jobs: list[tuple], queues: dict):
        super().__init__(name="schedulers", daemon=True)
        self.url, self.queue_names, self.jobs, self.queues = url, queue_names, jobs, queues
        self.stopping = threading.Event()
        self.outage = Outage("Redis (schedulers)")
        self.rounds = 0  # how many times the schedulers were started (1 + the outages survived)

    def run(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            try:
                connection = Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
                connection.ping()
                self.outage.up()
                delay = 1.0
                self._serve(connection)
            except RedisError as exc:
                self.outage.down(exc)
            except Exception:
                log.exception("the schedulers failed; starting them again in %.0f s", delay)
            self.stopping.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _serve(self, connection: Redis) -> None:
        self.rounds += 1
        later = RQScheduler(self.queue_names, connection=connection)
        later.acquire_locks()
        later.register_birth()
        cron = None
        if self.jobs:
            cron = _Cron(connection=connection)
            cron.lock_key = CRON_LOCK % self.queues[SWEEPS]
            for func, interval in self.jobs:
                cron.register(func, self.queues[queue_for(func)], interval=interval)
            cron.register_birth()
        try:
            while not self.stopping.is_set():
                if later.should_reacquire_locks:
                    later.acquire_locks()
                later.heartbeat()
                later.enqueue_scheduled_jobs()
                if cron is not None:
                    if cron.enqueue_jobs():
                        cron.save()
                    cron.heartbeat()
                self.stopping.wait(1.0)
        finally:
            if self.stopping.is_set():  # a clean stop: let go of the locks for the next worker
                later.release_locks()
                later.register_death()
                if cron is not None:
                    cron.register_death()
                    if (connection.get(cron.lock_key) or b"").decode() == cron.name:
                        connection.delete(cron.lock_key)  # the next worker's cron need not wait it out


class IntakeWorker(SimpleWorker):
    """Runs each job in this process (no fork per job: the router stays built in memory), under
    RQ's job timeout (SIGALRM, in the main thread). Redis errors end RQ's loop as RedisLost, so
    `run_worker` can wait for Redis and start again; the database session is removed after each
    job (by `intake.jobcontext`, and again here), its connection pooled and tested before reuse."""

    app = None
    cron_started = None  # what restarts the schedulers' thread; the work loop calls it at each beat
    log_result_lifespan = False  # not a third log line per job saying how long RQ keeps its result

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._beat_at = self._beat_until = float("-inf")  # the last beat and its key's expiry (monotonic)
        self.lost_redis = False
        self.lost_because: BaseException | None = None
        self.in_hand: tuple | None = None

    def _lost(self, exc: BaseException):
        self.lost_redis, self.lost_because = True, exc
        return RedisLost(str(exc))

    def execute_job(self, job, queue):
        _warm_router(self.app)
        self.in_hand = (job, queue)
        try:
            super().execute_job(job, queue)
        except RedisError as exc:
            raise self._lost(exc) from exc
        finally:
            if has_app_context():  # the session of the job's app context (jobcontext removes it too)
                db.session.remove()
        self.in_hand = None

    def dequeue_job_and_maintain_ttl(self, *args, **kwargs):
        try:
            return super().dequeue_job_and_maintain_ttl(*args, **kwargs)
        except RedisLost as exc:
            self.lost_redis, self.lost_because = True, exc.__cause__ or exc
            raise

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        if self.cron_started is not None:
            self.cron_started()
        ttl = timeout or self.worker_ttl + 60
        beat = time.monotonic()
        # RQ beats five times a job. Within a second of the last beat, while the key that beat set
        # still has worker_ttl to live (RQ beats again within worker_ttl - 15 s: at each job's start
        # and from its idle wait), one beat is enough.
        if pipeline is None and beat - self._beat_at < BEAT_EVERY and self._beat_until - beat >= self.worker_ttl:
            return
        try:
            if pipeline is not None:
                super().heartbeat(timeout, pipeline=pipeline)
            else:  # RQ sends its three commands one by one: one round trip for them
                with self.connection.pipeline(transaction=False) as pipe:
                    super().heartbeat(timeout, pipeline=pipe)
                    pipe.execute()
            self._beat_at, self._beat_until = beat, beat + ttl
        except RedisError as exc:
            raise self._lost(exc) from exc

    def run_maintenance_tasks(self):
        try:
            return super().run_maintenance_tasks()
        except RedisError as exc:
            raise self._lost(exc) from exc

    def check_for_suspension(self, burst: bool):
        try:
            return super().check_for_suspension(burst)
        except RedisError as exc:
            raise self._lost(exc) from exc

    def set_state(self, *args, **kwargs):
        try:
            return super().set_state(*args, **kwargs)
        except RedisError as exc:
            raise self._lost(exc) from exc

    def _pubsub_exception_handler(self, exc, pubsub, pubsub_thread):
        if isinstance(exc, RedisError):  # the work loop reports the outage; redis-py resubscribes
            time.sleep(2.0)
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def teardown(self):
        try:
            super().teardown()
        except RedisError:  # Redis is away: stop what runs here; the registrations expire by themselves
            if self.pubsub_thread:
                self.pubsub_thread.stop()


class _LosesRedisQueue(Queue):
    """RQ's Queue whose dequeue turns a Redis error into RedisLost, rather than RQ retrying it in
    its dequeue loop with a line per retry."""

    @classmethod
    def dequeue_any(cls, *args, **kwargs):
        try:
            return super().dequeue_any(*args, **kwargs)
        except RedisError as exc:
            raise RedisLost(str(exc)) from exc


IntakeWorker.queue_class = _LosesRedisQueue


def _warm_router(app) -> None:
    """Rebuild the router if reference data changed; with the database away, keep the one we have."""
    with app.app_context():
        try:
            refresh_router()
        except Exception as exc:  # the database is away; a routing job will fail and its sweep retry
            log.warning("could not refresh the router: %s", exc)
        finally:
            db.session.remove()


def _wait_for_redis(url: str, outage: Outage, stop: threading.Event) -> bool:
    """Block until Redis answers (True) or a stop is asked for (False), with backoff."""
    delay = 0.5
    while not stop.is_set():
        try:
            Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
            outage.up()
            return True
        except RedisError as exc:
            outage.down(exc)
        stop.wait(delay)
        delay = min(delay * 2, BACKOFF_MAX)
    return False


def _put_back(worker: IntakeWorker) -> None:
    """The job RQ was running when Redis went away goes back on its queue (a rerun changes nothing);
    a Redis that came back empty (no persistence) gets it again from what this process holds."""
    if worker.in_hand is None:
        return
    job, queue = worker.in_hand
    worker.in_hand = None
    try:
        try:
            if job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED):
                return  # it ended and RQ recorded it; only the worker's own bookkeeping was lost
        except InvalidJobOperation:  # the job's hash is gone with the Redis that held it
            pass
        queue.enqueue_job(job)
        log.info("job %s was interrupted by the Redis outage; queued again", job.id)
    except Exception as exc:  # a rerun is a nicety: the job's sweep finds what it left undone
        log.warning("could not queue job %s again (%s); its sweep will find it", job.id, exc)


def run_worker(app, burst: bool = False, cron: bool = True, kinds=QUEUE_KINDS) -> int:
    """Work the queues of these kinds (routing first) until stopped; returns the exit status."""
    configure_logging(app.config["LOG_LEVEL"])
    url = redis_url(app)
    names = [queue_name(kind, app) for kind in kinds]
    _warm_router(app)
    stop = threading.Event()
    schedulers: list[SchedulerThread] = []

    def keep_schedulers() -> None:
        """Start the schedulers' thread, or start it again if it died (called at every beat)."""
        if burst or stop.is_set():
            return
        if schedulers and schedulers[0].is_alive():
            return
        if schedulers:
            log.warning("the schedulers' thread died; starting it again")
        queues = {kind: queue_name(kind, app) for kind in QUEUE_KINDS}
        schedulers[:] = [SchedulerThread(url, names, periodic_jobs(app) if cron else [], queues)]
        schedulers[0].start()

    def stop_asked(signum, frame):
        stop.set()

    handlers = {sig: signal.signal(sig, stop_asked) for sig in (signal.SIGTERM, signal.SIGINT)}
    outage = Outage("Redis")
    crashes: list[float] = []
    try:
        while not stop.is_set():
            keep_schedulers()
            if not _wait_for_redis(url, outage, stop):
                break
            connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=WORKER_TTL)
            worker = IntakeWorker(
                names, connection=connection, worker_ttl=WORKER_TTL, maintenance_interval=MAINTENANCE_INTERVAL
            )
            worker.app, worker.cron_started = app, keep_schedulers
            try:
                worker.work(with_scheduler=burst, burst=burst)  # burst: RQ enqueues what is due, once
            except (RedisError, RedisLost) as exc:  # in RQ's start-up, before its loop
                worker.lost_redis = True
                outage.down(exc)
                worker.teardown()
            # RQ's handlers are the old worker's now; ours hold until the next worker sets its own
            signal.signal(signal.SIGTERM, stop_asked)
            signal.signal(signal.SIGINT, stop_asked)
            if worker._stop_requested or worker._shutdown_requested_date:
                break
            if worker.lost_redis:
                outage.down(worker.lost_because or RuntimeError("connection lost"))
                _wait_for_redis(url, outage, stop)
                _put_back(worker)
                continue
            if burst:
                break
            # RQ quit its loop with Redis up ("found an unhandled exception"): start again a few times
            now = time.monotonic()
            crashes[:] = [t for t in crashes if now - t < CRASH_WINDOW] + [now]
            if len(crashes) > CRASHES_ALLOWED:
                log.error("the worker quit %d times in %.0f s; exiting for the supervisor", len(crashes), CRASH_WINDOW)
                return 1
            log.warning("the worker's loop quit; starting it again")
            time.sleep(1)
    finally:
        stop.set()
        for sig, handler in handlers.items():  # as they were (a test run, `flask demo`'s own process)
            signal.signal(sig, handler)
        for thread in schedulers:
            thread.stopping.set()
            thread.join(5)
    return 0
