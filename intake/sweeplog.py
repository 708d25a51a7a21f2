"""When each periodic sweep last finished (foundation: the sweeps write, /readyz and /metrics read).

A row per sweep in the database, not a Redis key: the sweeps exist for Redis outages (they
re-enqueue what a dead Redis lost), so their record must survive a Redis restart, and /readyz
asks the database anyway. The row is written inside the sweep's own transaction, so a sweep that
raises leaves its last good run in place and /readyz sees it go stale.
"""

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from intake.extensions import db
from intake.types import UTCDateTime, utcnow

# Every sweep intake/worker.py's periodic_jobs runs, and the setting of its interval (seconds);
# tests/intake/test_health.py checks the two lists agree.
SWEEPS = {
    "sweep_unrouted": "ROUTING_SWEEP_INTERVAL",
    "sweep_clocks": "CLOCK_SWEEP_INTERVAL",
    "sweep_callbacks": "CLOCK_SWEEP_INTERVAL",
    "sweep_unsent": "NOTIFY_SWEEP_INTERVAL",
    "sweep_lost_parts": "NOTIFY_SWEEP_INTERVAL",
}


class SweepRun(db.Model):
    """The last time a sweep ran to its end."""

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True, comment="the sweep's function name")
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)


def record_sweep(name: str, at: datetime | None = None) -> None:
    """Upsert the sweep's row (two workers' sweeps may finish at once)."""
    at = at or utcnow()
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:  # another database: read, then write
        row = db.session.get(SweepRun, name)
        if row is None:
            db.session.add(SweepRun(name=name, last_run_at=at))
        else:
            row.last_run_at = at
        db.session.flush()
        return
    stmt = insert(SweepRun).values(name=name, last_run_at=at)
    db.session.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"last_run_at": stmt.excluded.last_run_at})
    )


def records_run(func):
    """Put under ``@in_app_context``: the sweep's run is recorded when it returns (in its transaction)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        record_sweep(func.__name__)
        return result

    return wrapper


def last_runs(connection) -> dict[str, datetime]:
    """{sweep name: last run} read on the given connection (the probes use their own, with a timeout)."""
    return dict(connection.execute(sa.select(SweepRun.name, SweepRun.last_run_at)).all())
