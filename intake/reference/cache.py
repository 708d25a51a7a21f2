"""Reference data cached per process, dropped when the reference version in Redis changes.

What a filing reads of the reference tables (the industries of the form, the wording of the SMS
templates) changes a few times a year and is read on every request. Each process keeps it as plain
data (never ORM objects: they belong to one session) under a name, with the tables it was read from.

When is it dropped?
- In this process: at once, when a flush writes to one of those tables (an administrator's page, a
  command, a seed, a test; ORM objects and ORM bulk UPDATE/DELETE alike), and again if that
  transaction rolls back.
- In every other process: the commit bumps `VERSION_KEY` in Redis (the version the routers follow,
  routing.services), and each process reads that key at most once every REFERENCE_CHECK_SECONDS
  (default 5), not once per request: a change is seen by every web worker within that time.
  With Redis down, what is cached is kept.
"""

import time

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from intake.redis_conn import get_redis

VERSION_KEY = "intake:reference-version"
_CHANGED = "reference_cache_changed"
_state: dict = {"version": None, "checked_at": None, "values": {}}
_watched: set[str] = set()  # the tables something cached is read from


def watch(*tables: str) -> None:
    """Watch these tables from now on in this process, as `cached` does once it is first called:
    called where a cached read is defined (at import), so that a process which writes one of them
    without ever having read it (an administrator's page in a web process) still tells the others."""
    _watched.update(tables)


def cached(name: str, tables: tuple[str, ...], build):
    """`build()` (plain data), cached in this process until one of `tables` changes."""
    app = current_app._get_current_object()
    watch(*tables)
    _check_version(app)
    key = (app.config.get("SQLALCHEMY_DATABASE_URI"), name)
    values = _state["values"]
    if key not in values:
        values[key] = build()
    return values[key]


def current_version():
    """The reference version this process follows: read from Redis at most once every
    REFERENCE_CHECK_SECONDS (what this process cached is dropped when it moved), kept as it was
    while Redis is down. The routers (routing.services) rebuild when it moves."""
    _check_version(current_app._get_current_object())
    return _state["version"]


def _check_version(app) -> None:
    every = app.config.get("REFERENCE_CHECK_SECONDS", 5)
    now = time.monotonic()
    if _state["checked_at"] is not None and now - _state["checked_at"] < every:
        return
    try:
        version = get_redis(app).get(VERSION_KEY)
    except RedisError:
        return  # keep what we have; try again next time
    _state["checked_at"] = now
    if version != _state["version"]:
        _state["values"].clear()
        _state["version"] = version


def forget() -> None:
    """Drop everything this process cached (its next read rebuilds)."""
    _state["values"].clear()


def bump_version() -> None:
    """Tell every process that reference data changed: this one forgets now, the others within
    REFERENCE_CHECK_SECONDS. (routing.services.invalidate_router calls it for the routers too.)"""
    forget()
    try:
        _state["version"] = str(get_redis().incr(VERSION_KEY)).encode()
    except RedisError:
        pass  # this process has forgotten; the others will when Redis is back


def _writes_watched_table(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in _watched:
            return True
    return False


@event.listens_for(Session, "before_flush")
def _note_writes(session: Session, flush_context, instances) -> None:
    if _watched and _writes_watched_table(session):
        forget()
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and _watched:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _watched:
            forget()
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and current_app:
        bump_version()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    if session.info.pop(_CHANGED, False):
        forget()  # what was cached during the transaction may hold its rolled-back rows
