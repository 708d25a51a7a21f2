"""Count the SQL statements and Redis round trips of one POST /api/v1/cases.

    DATABASE_URL=postgresql://… REDIS_URL=redis://127.0.0.1:6379/13 python benchmarks/count_filing.py [--throttles]

Runs against the database and Redis named (default: a temporary SQLite file and the embedded
redis-server), built from the migrations and seeded. Statements are counted with a SQLAlchemy
`before_cursor_execute` listener; Redis round trips by wrapping the clients' `execute_command`
and pipelines' `execute` (one pipeline = one round trip). The first filing warms the process's
caches; the second is the one reported, as a worker sees it in steady state.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BODY = {
    "kind": "complaint",
    "description": "饭店的菜里有头发，老板不肯退钱",
    "business_name": "好再来饭店",
    "business_address": "龙港市世纪大道88号",
    "complainant": {"name": "张三", "phone": "13812345678"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--throttles", action="store_true", help="with the production throttles on")
    parser.add_argument("--no-seed", action="store_true", help="the database is already migrated and seeded")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="count-filing-")
    os.environ.setdefault("INSTANCE_PATH", tmp)

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from redis.client import Pipeline, Redis

    from intake import create_app
    from intake.extensions import db
    from intake.seeding import seed_all

    app = create_app(  # LOG_LEVEL WARNING: the counts, not the migrations' log
        {
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/count.sqlite3",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "RQ_QUEUE": "intake-count",
            "THROTTLES_ENABLED": args.throttles,
            "NOTIFY_QUIET_HOURS": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        if not args.no_seed:
            meta = sa.MetaData()
            meta.reflect(bind=db.engine)
            meta.drop_all(bind=db.engine)
            upgrade()
            seed_all()
            db.session.commit()

    statements: list[str] = []
    redis_calls: list[str] = []

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:110])

    plain, piped = Redis.execute_command, Pipeline.execute

    def counted(self, *args, **options):
        if not isinstance(self, Pipeline):
            redis_calls.append(" ".join(str(a) for a in args[:2]))
        return plain(self, *args, **options)

    def counted_pipeline(self, *args, **kwargs):
        redis_calls.append("PIPELINE[" + ", ".join(str(c[0][0]) for c in self.command_stack) + "]")
        return piped(self, *args, **kwargs)

    Redis.execute_command, Pipeline.execute = counted, counted_pipeline
    client = app.test_client()
    for attempt in ("warm-up", "measured"):
        statements.clear()
        redis_calls.clear()
        response = client.post("/api/v1/cases", json=BODY, environ_base={"REMOTE_ADDR": f"10.0.0.{len(attempt)}"})
        assert response.status_code == 201, response.get_data(as_text=True)
    print(
        f"throttles {'on' if args.throttles else 'off'}: {len(statements)} SQL statements, {len(redis_calls)} Redis round trips"
    )
    for s in statements:
        print("  SQL  ", s)
    for r in redis_calls:
        print("  REDIS", r)


if __name__ == "__main__":
    main()
