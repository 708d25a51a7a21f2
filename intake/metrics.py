"""What the platform counts for Prometheus (foundation: services and jobs count, intake/health shows).

Two kinds of figures, two stores, chosen by which processes produce them:

- **HTTP requests** (count and latency per endpoint) happen only in the web processes. They are
  prometheus_client metrics; under gunicorn with several workers, ``PROMETHEUS_MULTIPROC_DIR``
  (gunicorn.conf.py sets it) puts each process's values in files there, and ``/metrics`` sums
  them (``MultiProcessCollector``), whichever process answers the scrape.
- **Cases filed and routed** happen in web processes *and* in RQ's work horses (routing jobs, the
  SMS sweep that files a long message whose parts were lost). A work horse is a fork that lives
  for one job: in multiprocess mode each would leave a file behind (one per job, read at every
  scrape), and without it its count dies with it. So these are counted in one Redis hash
  (``HINCRBY``, atomic across every process and host), after the commit that stored the case:
  a rolled-back filing is never counted. Redis down at that moment loses that increment (logged);
  a Redis restart without persistence starts the counters from zero, which Prometheus's
  ``rate()`` / ``increase()`` treat as a counter reset.
"""

import logging
import os
import time

from flask import current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.extensions import db
from intake.redis_conn import get_redis

log = logging.getLogger(__name__)
disable_created_metrics()  # no *_created series: Prometheus does not need them and they double the output

# the metrics defined here; in multiprocess mode their values live in PROMETHEUS_MULTIPROC_DIR instead
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "intake_http_requests",
    "HTTP requests answered, by endpoint (the route's name, not its path), method and status",
    ("endpoint", "method", "status"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "intake_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint and method",
    ("endpoint", "method"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Redis hashes of the counters that any process may add to: field = label value
CASE_COUNTERS = {
    # name: (Redis key, label, help)
    "intake_cases_filed": ("intake:metrics:cases_filed", "channel", "Cases filed, by channel"),
    "intake_cases_routed": (
        "intake:metrics:cases_routed",
        "outcome",
        "Cases the router placed: auto (sent to a department) or triage (left to a dispatcher)",
    ),
}
_PENDING = "metrics_after_commit"


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir"))


# --- counters that any process adds to, after the commit ---------------------------------------------


def count_after_commit(name: str, label: str) -> None:
    """Add one to a case counter (CASE_COUNTERS) once the current transaction commits."""
    if name not in CASE_COUNTERS:
        raise KeyError(name)
    db.session.info.setdefault(_PENDING, []).append((name, label))


def case_counts(redis) -> dict[str, dict[str, int]]:
    """{counter name: {label value: count}} from Redis (for the scrape)."""
    with redis.pipeline(transaction=False) as pipe:
        for key, _, _ in CASE_COUNTERS.values():
            pipe.hgetall(key)
        rows = pipe.execute()
    return {
        name: {field.decode(): int(value) for field, value in row.items()} for name, row in zip(CASE_COUNTERS, rows)
    }


_redis_down_until = [0.0]  # after a failure, this process stops trying for a while
REDIS_RETRY_AFTER = 10.0  # seconds: a filing during an outage does not wait for Redis twice (job, then count)


def pop_counts(session: Session) -> list:
    """The counts this committed transaction asked for (intake.jobs sends them with its jobs, in
    the same Redis round trip)."""
    pending = session.info.pop(_PENDING, None) or []
    if pending and time.monotonic() < _redis_down_until[0]:
        log.debug("Redis was down a moment ago: not counted %r", pending)
        return []
    return pending


def add_counts(pipe, pending: list) -> None:
    for name, label in pending:
        pipe.hincrby(CASE_COUNTERS[name][0], label, 1)


def counting_failed(pending: list) -> None:
    """Redis was down: the case is stored; only the figure misses it, and this process rests a while."""
    _redis_down_until[0] = time.monotonic() + REDIS_RETRY_AFTER
    log.warning("could not count %r in Redis; not trying for %.0f s", pending, REDIS_RETRY_AFTER, exc_info=True)


def flush_counts(pending: list) -> None:
    """Counts with no job to travel with: a round trip of their own."""
    if not pending or not current_app:
        return
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            add_counts(pipe, pending)
            pipe.execute()
    except Exception:
        counting_failed(pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop_counts(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)


# --- requests ----------------------------------------------------------------------------------------


# kept in the WSGI environ, which is the request's own (g may outlive a request: an app context
# pushed around several requests, as in the tests)
_START, _DONE = "intake.metrics.start", "intake.metrics.done"


def _start_timer():
    request.environ[_START] = time.perf_counter()


def _observe(response):
    _record(response.status_code)
    return response


def _observe_failure(exc):
    if exc is not None:  # raised past every handler (after_request did not run): the client got a 500
        _record(500)


def _record(status: int) -> None:
    if request.environ.get(_DONE):
        return
    request.environ[_DONE] = True
    endpoint = request.endpoint or "none"  # none: a 404 or 405 with no route (raw paths are unbounded)
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(status)).inc()
    start = request.environ.get(_START)
    if start is not None:  # None: an earlier before_request hook answered first
        LATENCY.labels(endpoint, method).observe(time.perf_counter() - start)


def init_app(app) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.teardown_request(_observe_failure)
