"""Looking a case up by number and code: what each kind of answer costs, and PBKDF2 against HMAC.

Run:
    .venv/bin/python benchmarks/bench_lookup.py [--cases 5000] [-n 300]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/intake_lookup REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python benchmarks/bench_lookup.py

Without DATABASE_URL it uses a new SQLite file. On PostgreSQL the schema is brought to the head
migration and the bench's cases (numbers starting 99) are deleted again at the end, so a test
database is fine. Lookups go through the Flask test client (GET with X-Lookup-Code), the kinds
taken in turn, in a new random order each round, so
that a slow moment hits them all alike.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-lookup-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402

PREFIX = "99"  # YY=99: no real number has it


def number(i: int) -> str:
    from intake.cases.codes import check_digit

    body = f"{PREFIX}{i:010d}"
    return body + check_digit(body)


def make_app():
    from intake import create_app

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{os.environ['INSTANCE_PATH']}/bench.sqlite3"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": os.environ.get("REDIS_URL", "")})


def fill(count: int) -> tuple[str, str, str]:
    """`count` cases with HMAC-hashed codes plus one with an old PBKDF2 hash; (new, old, unknown)."""
    from intake.cases.codes import hash_code
    from intake.cases.models import Case, CaseKind, Channel
    from intake.extensions import db
    from intake.transaction import transaction
    from intake.types import utcnow

    now = utcnow()
    rows = [
        {
            "tracking_no": number(i),
            "lookup_code_hash": hash_code(number(i), "123456"),
            "kind": CaseKind.COMPLAINT,
            "channel": Channel.WEB,
            "description": "基准测试",
            "received_at": now,
        }
        for i in range(count)
    ]
    rows[-1]["lookup_code_hash"] = generate_password_hash("123456", method="pbkdf2:sha256:50000")
    with transaction():
        db.session.execute(sa.delete(Case).where(Case.tracking_no.like(f"{PREFIX}%")))
        for start in range(0, count, 1000):
            db.session.execute(sa.insert(Case), rows[start : start + 1000])
    return number(count // 2), number(count - 1), number(count + 10)


def timed(client, tracking_no: str, code: str, expect: int) -> float:
    started = time.perf_counter()
    response = client.get(f"/api/v1/cases/{tracking_no}", headers={"X-Lookup-Code": code})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == expect, (tracking_no, response.status_code)
    return elapsed


def summary(ms: list[float]) -> tuple[float, float]:
    return statistics.median(ms), statistics.quantiles(ms, n=10)[-1]


def hash_costs(samples: int, batch: int = 200) -> tuple[float, float]:
    """Median ms to hash and to check one code: PBKDF2 as before, HMAC now (HMAC timed in batches)."""
    from intake.cases.codes import check_code, hash_code

    tracking_no, pbkdf2, hmac_ = number(1), [], []
    stored_old = generate_password_hash("123456", method="pbkdf2:sha256:50000")
    stored_new = hash_code(tracking_no, "123456")
    for _ in range(samples):
        t = time.perf_counter()
        generate_password_hash("123456", method="pbkdf2:sha256:50000")
        check_password_hash(stored_old, "654321")
        pbkdf2.append((time.perf_counter() - t) * 1000 / 2)
        t = time.perf_counter()
        for _ in range(batch):
            hash_code(tracking_no, "123456")
            check_code(stored_new, tracking_no, "654321")
        hmac_.append((time.perf_counter() - t) * 1000 / (2 * batch))
    return statistics.median(pbkdf2), statistics.median(hmac_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("-n", type=int, default=300, help="lookups of each kind")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from intake.cases.models import Case
    from intake.extensions import db
    from intake.transaction import transaction

    app = make_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        new_no, old_no, unknown_no = fill(args.cases)
        print(f"{args.cases} cases in {db.engine.dialect.name} in {time.perf_counter() - started:.1f} s")
        client = app.test_client()
        kinds = {
            "existing number, wrong code": (new_no, "654321", 404),
            "the same, again (noise floor)": (new_no, "000000", 404),
            "existing number, right code": (new_no, "123456", 200),
            "well-formed unknown number": (unknown_no, "123456", 404),
            "bad check digit": (new_no[:-1] + str((int(new_no[-1]) + 1) % 10), "123456", 404),
            "old PBKDF2 row, wrong code": (old_no, "654321", 404),
        }
        for tracking_no, code, expect in kinds.values():  # warm up: connections, templates, caches
            for _ in range(5):
                timed(client, tracking_no, code, expect)
        times = {kind: [] for kind in kinds}
        order = list(kinds)
        for _ in range(args.n):
            random.shuffle(order)  # no kind always follows the slow PBKDF2 one
            for kind in order:
                times[kind].append(timed(client, *kinds[kind]))

        print(f"\n{args.n} lookups of each kind through the test client (ms):")
        print(f"  {'kind':<30} {'median':>8} {'p90':>8}")
        medians = {}
        for kind, ms in times.items():
            medians[kind], p90 = summary(ms)
            print(f"  {kind:<30} {medians[kind]:8.3f} {p90:8.3f}")
        wrong, unknown = medians["existing number, wrong code"], medians["well-formed unknown number"]
        noise = abs(medians["the same, again (noise floor)"] - wrong)
        print(
            f"\n  wrong code - unknown number:         {wrong - unknown:+.3f} ms (medians; noise floor {noise:.3f} ms)"
        )
        right = medians["existing number, right code"]
        print(f"  right code - wrong code:             {right - wrong:+.3f} ms (the answer is the case view)")
        old = medians["old PBKDF2 row, wrong code"]
        print(f"  old PBKDF2 row - unknown number:     {old - unknown:+.3f} ms (until the row is upgraded)")

        pbkdf2, hmac_ = hash_costs(max(20, args.n // 10))
        print(
            f"\nhashing or checking one code: PBKDF2 (50,000 rounds) {pbkdf2:.3f} ms, HMAC-SHA256 {hmac_ * 1000:.1f} µs"
        )
        print(f"  ratio PBKDF2 / HMAC: {pbkdf2 / hmac_:,.0f}x")

        with transaction():
            db.session.execute(sa.delete(Case).where(Case.tracking_no.like(f"{PREFIX}%")))


if __name__ == "__main__":
    main()
