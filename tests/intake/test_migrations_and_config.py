"""The schema builds from empty with the migrations and matches the models; settings from the environment."""

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from intake import config, create_app
from intake.extensions import db


def _upgrade_and_compare(url: str) -> list:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://unused"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        db.engine.dispose()
    assert {
        "case",
        "case_event",
        "clock",
        "division",
        "department",
        "routing_rule",
        "time_limit_policy",
        "user",
        "alembic_version",
    } <= tables
    return diff


def test_migrations_build_the_schema_from_empty_on_sqlite(tmp_path):
    assert _upgrade_and_compare(f"sqlite:///{tmp_path}/fresh.sqlite3") == []


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs DATABASE_URL pointing at PostgreSQL (run by .ci/run)",
)
def test_migrations_build_the_schema_from_empty_on_postgresql():
    server = sa.engine.make_url(config.normalise_database_url(os.environ["DATABASE_URL"]))
    name = f"intake_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        assert _upgrade_and_compare(server.set(database=name).render_as_string(hide_password=False)) == []
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_usual_postgresql_url_uses_psycopg3():
    assert config.normalise_database_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert config.normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_production_without_its_settings_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    for key in config.PRODUCTION_REQUIRED:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(config.ConfigError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        config.load(str(tmp_path))


GOOD_SECRET = "Qm8vT3rX1pLz9sKd4wNb7yHc2fJg6aEu"  # 32 characters, random-looking

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "DATABASE_URL": "postgresql://intake@db/intake",
    "REDIS_URL": "redis://redis:6379/0",
    "HOTLINE_TOKEN": "hotline-token",
    "SMS_WEBHOOK_SECRET": "sms-secret",
    "LOOKUP_CODE_KEY": "lookup-code-key",
    "METRICS_TOKEN": "metrics-token",
    "NOTIFY_SMS_BACKEND": "http",
    "NOTIFY_SMS_HTTP_URL": "https://sms.example/send",
    "NOTIFY_MAIL_BACKEND": "smtp",
}


@pytest.fixture
def production(monkeypatch):
    """A production environment that starts; each test spoils one setting."""
    for key, value in SAFE_PRODUCTION.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return monkeypatch


def test_safe_production_settings_load(production, tmp_path):
    cfg = config.load(str(tmp_path))
    assert cfg["APP_ENV"] == "production" and cfg["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "secret, message",
    [
        ("short-but-random-9f3k", "at least 32 characters"),
        ("dev", "at least 32 characters"),
        ("change-me-in-production-please-0123456789", "known or trivial"),
        ("your-secret-key-here-for-the-intake-site", "known or trivial"),
        ("a" * 40, "known or trivial"),
    ],
)
def test_production_refuses_a_short_or_known_secret_key(production, tmp_path, secret, message):
    production.setenv("SECRET_KEY", secret)
    with pytest.raises(config.ConfigError, match=message):
        config.load(str(tmp_path))


@pytest.mark.parametrize("setting", ["NOTIFY_SMS_BACKEND", "NOTIFY_MAIL_BACKEND"])
@pytest.mark.parametrize("backend", ["log", "memory"])
def test_production_refuses_a_gateway_that_sends_nothing(production, tmp_path, setting, backend):
    production.setenv(setting, backend)
    with pytest.raises(config.ConfigError, match=f"{setting}='{backend}' sends nothing"):
        config.load(str(tmp_path))


def test_production_refuses_the_default_log_gateways(production, tmp_path):
    production.delenv("NOTIFY_SMS_BACKEND")
    with pytest.raises(config.ConfigError, match="NOTIFY_SMS_BACKEND='log'"):
        config.load(str(tmp_path))


def test_production_refuses_debug_mode(production, tmp_path):
    production.setenv("FLASK_DEBUG", "1")
    with pytest.raises(config.ConfigError, match="debug mode"):
        config.load(str(tmp_path))
    production.delenv("FLASK_DEBUG")
    with pytest.raises(config.ConfigError, match="debug mode"):
        config.load(str(tmp_path), {"DEBUG": True})


def test_development_keeps_its_conveniences(monkeypatch, tmp_path):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("SECRET_KEY", "dev")
    cfg = config.load(str(tmp_path))
    assert cfg["NOTIFY_SMS_BACKEND"] == "log" and cfg["PROXY_FIX_X_FOR"] == 0 and cfg["SESSION_IDLE_MINUTES"] == 30
