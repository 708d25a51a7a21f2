"""Pooled database connections are tested before use only when they have sat idle.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` on every checkout: a round trip, and a statement for
the server, in front of every request and job. It exists so that a connection the server dropped
(a restart, an idle timeout, a proxy) is replaced instead of failing its first statement. Those
connections have one thing in common: they sat in the pool while it happened. A restart or an
outage lasts seconds, and a server or proxy drops a connection after minutes of idleness, so a
connection used a moment ago (within `DATABASE_PING_IDLE_SECONDS`, one second unless set) is not
tested, and under load, when every connection goes back into use within milliseconds, no request
pays for the ping. A connection idle longer is pinged as pre-ping would; a dead one is discarded
with every connection made before it (as pre-ping does) and the checkout gets a new one.

What this gives up: a connection the server dropped less than a second after its last use, with no
outage around it (pg_terminate_backend by hand), fails the request that meets it (a 503 that says
nothing was stored, intake/errors.py); the disconnect discards the pool, and the next one is served.
"""

from time import monotonic

from sqlalchemy import event, exc

_IDLE_SINCE = "intake.pool.idle_since"


def ping_when_idle(engine, idle_seconds: float) -> None:
    """Test a connection on checkout when it has been back in `engine`'s pool `idle_seconds` or more."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _back_in_pool(dbapi_connection, record):
        record.info[_IDLE_SINCE] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or monotonic() - since < idle_seconds:
            return  # just made, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # as pre-ping: every connection made before now is suspect; the pool gets a new one
                raise exc.InvalidatePoolError() from error
            raise
