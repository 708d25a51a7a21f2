"""The baseline of benchmarks/bench_intake.py: Flask that parses the same JSON and does one INSERT.

    BARE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/intake_fast_bare \
        gunicorn -w 4 -b 127.0.0.1:8102 --chdir benchmarks bare_app:app

No validation beyond "a JSON object with a description", no ORM, no Redis: one psycopg connection
per worker process (opened at the first request, after gunicorn forks), one INSERT … RETURNING id
in its own transaction. It is what the operator compared against: the floor of a JSON POST that
stores a row on this machine, not a target the project could reach.
"""

import json
import os
import secrets

import psycopg
from flask import Flask, jsonify, request

URL = os.environ.get("BARE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/intake_fast_bare")
app = Flask(__name__)
_conn: dict = {}

SCHEMA = """CREATE TABLE IF NOT EXISTS bare_case (
    id bigserial PRIMARY KEY, tracking_no varchar(16) UNIQUE NOT NULL, body jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now())"""


def connection() -> psycopg.Connection:
    conn = _conn.get(os.getpid())
    if conn is None or conn.closed:
        conn = _conn[os.getpid()] = psycopg.connect(URL)
    return conn


@app.post("/api/v1/cases")
def create_case():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("description"), str):
        return jsonify({"errors": {"body": ["a JSON object with a description"]}}), 422
    tracking_no = f"{secrets.randbelow(10**13):013d}"
    conn = connection()
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO bare_case (tracking_no, body) VALUES (%s, %s) RETURNING id",
            (tracking_no, json.dumps(body, ensure_ascii=False)),
        ).fetchone()
    return jsonify({"tracking_no": tracking_no, "id": row[0], "status": "received"}), 201


def create_schema() -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute("TRUNCATE bare_case")


if __name__ == "__main__":
    create_schema()
