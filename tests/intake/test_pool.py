"""intake/pool.py: a pooled connection is pinged before use only after it sat idle, and a dead one
found that way is replaced without failing the request."""

import time

import psycopg
import pytest

from intake import pool
from intake.cases.models import Case
from intake.extensions import db

from .test_api import PHARMACY
from .test_faults import says_not_stored


@pytest.fixture(autouse=True)
def _a_new_pool(app):
    """Each test starts with an empty pool: what it checks depends on which connection a request
    gets, and the suite's earlier tests (threads among them) leave several behind, returned at
    times that a test here may have shifted with `_later`."""
    db.engine.dispose()


@pytest.fixture
def pings(app, monkeypatch):
    """How many times the pool tested a connection."""
    dialect = db.engine.dialect
    counted, real = [], dialect.do_ping

    def do_ping(dbapi_connection):
        counted.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", do_ping)
    return counted


def _later(monkeypatch, seconds: float) -> None:
    """As if the pool's connections had sat idle `seconds` longer."""
    monkeypatch.setattr(pool, "monotonic", lambda: time.monotonic() + seconds)


def _drop_every_connection_to_the_database() -> None:
    """What a database restart does to the pool: every connection it holds is closed by the server."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_connection_used_a_moment_ago_is_not_pinged(app, client, pings):
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    pings.clear()
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert pings == []


def test_a_connection_idle_past_the_setting_is_pinged(app, client, pings, monkeypatch):
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    pings.clear()
    _later(monkeypatch, app.config["DATABASE_PING_IDLE_SECONDS"] + 1)
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert len(pings) == 1


def _postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs a server that can drop the pool's connections (PostgreSQL)")


def test_after_the_server_dropped_the_idle_connections_the_next_filing_is_stored(app, client, pings, monkeypatch):
    _postgresql_only()
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    db.session.remove()
    _drop_every_connection_to_the_database()
    _later(monkeypatch, app.config["DATABASE_PING_IDLE_SECONDS"] + 1)
    resp = client.post("/api/v1/cases", json=PHARMACY)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert pings  # found dead by the ping, and replaced
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 2


def test_a_connection_dropped_right_after_its_use_fails_one_request_honestly_and_the_next_is_served(app, client):
    """The trade-off intake/pool.py names: no outage around it, under a second since the last use."""
    _postgresql_only()
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    db.session.remove()
    _drop_every_connection_to_the_database()
    refused = client.post("/api/v1/cases", json=PHARMACY)
    assert refused.status_code == 503 and says_not_stored(refused.get_json()["errors"]["request"][0])
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 2
