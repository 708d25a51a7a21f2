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
