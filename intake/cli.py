"""The app shell's commands: `flask seed`, `flask worker` and `flask demo`; each area's commands live with the area."""

import click
from flask import current_app
from flask.cli import with_appcontext

from intake.demo import run_demo
from intake.redis_conn import QUEUE_KINDS
from intake.seeding import seed_all
from intake.transaction import transaction
from intake.worker import run_worker
from routing.services import invalidate_router


@click.command("seed")
@with_appcontext
def seed_command():
    """Load divisions, industries, departments, routing table and time limits (idempotent)."""
    with transaction():
        added = seed_all()
    invalidate_router()
    click.echo("已载入参考数据：" + "，".join(f"{k} +{v}" for k, v in added.items()))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic sweeps in this worker.")
@click.option(
    "--queues",
    default=",".join(QUEUE_KINDS),
    show_default=True,
    help="The kinds of work to take, in priority order (comma-separated): " + ", ".join(QUEUE_KINDS) + ".",
)
@with_appcontext
def worker_command(burst: bool, no_cron: bool, queues: str):
    """Run an RQ worker with its scheduler (and the periodic sweeps) inside the app.

    It keeps going through Redis and database outages; it exits non-zero only when it cannot go
    on, for its supervisor (systemd, honcho) to start it again."""
    kinds = tuple(k.strip() for k in queues.split(",") if k.strip())
    unknown = [k for k in kinds if k not in QUEUE_KINDS]
    if unknown or not kinds:
        raise click.BadParameter(f"unknown {', '.join(unknown) or 'empty'}; choose from {', '.join(QUEUE_KINDS)}")
    status = run_worker(current_app._get_current_object(), burst=burst, cron=not (burst or no_cron), kinds=kinds)
    if status:
        raise SystemExit(status)


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def demo_command(host: str, port: int):
    """Build the database, load demo data and logins, start site + worker + embedded Redis."""
    run_demo(current_app._get_current_object(), host, port)
