"""Flask CLI commands: seed, worker, demo, create-user, routing predict/eval/calibrate."""
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from intake.extensions import db
from intake.transaction import transaction


@click.command("seed")
@with_appcontext
def seed_command():
    """Load divisions, industries, departments, routing table and time limits (idempotent)."""
    from intake.seeding import seed_all
    from routing.services import invalidate_router

    with transaction():
        added = seed_all()
    invalidate_router()
    click.echo("已载入参考数据：" + "，".join(f"{k} +{v}" for k, v in added.items()))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then stop.")
@click.option("--no-cron", is_flag=True, help="Do not run the periodic sweeps in this worker.")
@with_appcontext
def worker_command(burst: bool, no_cron: bool):
    """Run an RQ worker with its scheduler (and the periodic sweeps) inside the app."""
    from intake.worker import run_worker

    run_worker(current_app._get_current_object(), burst=burst, cron=not (burst or no_cron))


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["department", "township", "dispatcher", "operator",
                                           "supervisor", "admin"]), required=True)
@click.option("--county", default=None, help="County code, e.g. 330324")
@click.option("--department-kind", default=None, help="market, agriculture, … (with --county)")
@click.option("--township", default=None, help="Township code, e.g. 330324101")
@with_appcontext
def create_user_command(username, password, display_name, role, county, department_kind, township):
    """Create a staff user."""
    from intake.accounts.models import Role
    from intake.accounts.services import ensure_user
    from intake.reference.models import Department

    department = None
    if department_kind:
        department = db.session.scalar(db.select(Department).filter_by(county_code=county,
                                                                       kind=department_kind))
        if department is None:
            raise click.BadParameter("no such department in that county", param_hint="--department-kind")
    with transaction():
        ensure_user(username, password, display_name, Role(role), county_code=county,
                    department_id=department.id if department else None, township_code=township)
    click.echo(f"用户 {username} 已创建。")


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def demo_command(host: str, port: int):
    """Build the database, load demo data and logins, start site + worker + embedded Redis."""
    from intake.demo import run_demo

    run_demo(current_app._get_current_object(), host, port)


sla_cli = click.Group("sla", help="Time limits: check a deadline as a policy would compute it.")


@sla_cli.command("due")
@click.option("--start", required=True, help="Local time in Asia/Shanghai, e.g. 2026-09-28T10:00")
@click.option("--working-days", type=int)
@click.option("--calendar-days", type=int)
@click.option("--hours", type=int)
@with_appcontext
def sla_due(start, working_days, calendar_days, hours):
    """Print the deadline of a limit counted from START (day of receipt not counted)."""
    from intake.admin.services import deadline
    from routing.calendar import parse_local_time

    given = [(u, n) for u, n in (("working_days", working_days), ("calendar_days", calendar_days),
                                 ("hours", hours)) if n is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --working-days, --calendar-days, --hours")
    try:
        begin = parse_local_time(start)
    except ValueError:
        raise click.BadParameter("use the form 2026-09-28T10:00", param_hint="--start")
    unit, amount = given[0]
    result = deadline(begin, amount, unit)
    click.echo(result.due.strftime("%Y-%m-%d %H:%M:%S %z（Asia/Shanghai）"))
    for year in result.missing_years:
        click.echo(f"警告：{year}年法定节假日安排未录入，仅按周末推算。请用 flask calendar import 录入。")


calendar_cli = click.Group("calendar", help="Holidays and make-up working days for years chinesecalendar lacks.")


@calendar_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def calendar_import(path):
    """Import days from a CSV with columns day,working,note (working: 1 for a make-up working day)."""
    from intake.admin.services import CalendarImportError, import_calendar

    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    try:
        with transaction():
            count = import_calendar(text)
    except CalendarImportError as exc:
        raise click.ClickException(f"未录入：{exc}")
    click.echo(f"已录入 {count} 天。")


divisions_cli = click.Group("divisions", help="The gazetteer of administrative divisions.")


@divisions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--attributes", type=click.Path(exists=True, dir_okay=False),
              help="attributes.csv with each code's kind (街道/镇/乡/村/社区)")
@with_appcontext
def divisions_import(path, attributes):
    """Import NBS division codes from a CSV (code,name,level,parent_code): a province or the country."""
    from intake.reference.seed import import_divisions, seed_departments
    from routing.services import invalidate_router

    with transaction():
        added = import_divisions(path, attributes)
        departments = seed_departments()
    invalidate_router()
    click.echo(f"新增区划 {added} 个，新增部门 {departments} 个。")


@divisions_cli.command("alias")
@click.argument("code")
@click.argument("name")
@with_appcontext
def divisions_alias(code, name):
    """Add another name people use for a division (老城关 for a 街道); the router finds it as 别名."""
    from intake.reference.models import Division
    from routing.services import invalidate_router

    division = db.session.get(Division, code)
    if division is None:
        raise click.BadParameter(f"unknown division code {code!r}", param_hint="CODE")
    name = name.strip()
    if len(name) < 2:
        raise click.BadParameter("an alias needs at least two characters", param_hint="NAME")
    aliases = list(division.aliases or [])
    if name in aliases or name == division.name:
        click.echo(f"'{name}' 已是{division.name}的名称，未改动。")
        return
    with transaction():
        division.aliases = aliases + [name]  # a new list, so the JSON column is seen as changed
    invalidate_router()
    click.echo(f"'{name}' → {division.name}（{code}）的别名：{'、'.join(division.aliases)}")


routing_cli = click.Group("routing", help="Run the router on case files.")


@routing_cli.command("add-term")
@click.argument("term")
@click.argument("industry")
@click.option("--weight", default=2.0, show_default=True, help="0 only blocks shorter words inside it")
@click.option("--note", default="")
@with_appcontext
def routing_add_term(term, industry, weight, note):
    """Teach the classifier a word (or change its weight); every worker picks it up."""
    from intake.reference.models import Industry, IndustryTerm
    from routing.services import invalidate_router

    if db.session.get(Industry, industry) is None:
        raise click.BadParameter(f"unknown industry {industry!r}", param_hint="INDUSTRY")
    with transaction():  # committed before every worker is told to rebuild
        row = db.session.scalar(db.select(IndustryTerm).filter_by(term=term, industry_code=industry))
        if row is None:
            row = IndustryTerm(term=term, industry_code=industry)
            db.session.add(row)
        row.weight, row.note = weight, note
    invalidate_router()
    click.echo(f"'{term}' → {industry}（权重 {weight}）")


@routing_cli.command("predict")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def routing_predict(path):
    """Write one JSON line per case: the router's decision."""
    from routing.router.evaluate import load_cases, predict_line
    from routing.services import get_router

    router = get_router()
    out = sys.stdout
    for case in load_cases(path):
        out.write(json.dumps(predict_line(router, case), ensure_ascii=False) + "\n")


@routing_cli.command("eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--verbose", is_flag=True, help="Show the router's reasons for each mistake.")
@click.option("--part", type=click.Choice(["train", "holdout"]), default=None,
              help="Only the fixed train or holdout part of the file.")
@click.option("--tags", type=click.Path(exists=True, dir_okay=False), default=None,
              help='id → {"cats": [...]} JSON: precision, coverage and triage recall per category.')
@with_appcontext
def routing_eval(path, verbose, part, tags):
    """Print the mistakes, a reliability table, per-category rows (--tags) and
    precision, coverage, triage recall against each case's `expect`."""
    from routing.router.evaluate import evaluate, load_cases, load_tags
    from routing.services import get_router

    report = evaluate(get_router(), load_cases(path, part))
    click.echo(report.format(verbose, load_tags(tags) if tags else None))


@routing_cli.command("calibrate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--target", default=0.98, show_default=True, type=float,
              help="Precision the threshold is chosen for (out-of-fold).")
@click.option("--out", default=None, help="Where to write the model (default: the shipped calibration.json).")
@with_appcontext
def routing_calibrate(paths, target, out):
    """Refit the confidence on the train part of labelled sets (default: the shared dev sets)
    and print its cross-validated precision, coverage and triage recall. Needs scikit-learn."""
    from routing.router.calibrate import DEFAULT_PATH
    from routing.router.fit import fit, format_fit
    from routing.services import get_router, invalidate_router

    try:
        calibration, report = fit(get_router(), list(paths) or None, target)
    except ImportError as exc:
        raise click.ClickException(f"{exc}: pip install -e '.[train]'")
    calibration.save(out or DEFAULT_PATH)
    click.echo(format_fit(calibration, report))
    click.echo(f"已写入 {out or DEFAULT_PATH}；若设置了 ROUTING_MIN_CONFIDENCE，阈值以它为准。")
    invalidate_router()


def init_app(app) -> None:
    for command in (seed_command, worker_command, create_user_command, demo_command, divisions_cli,
                    routing_cli, sla_cli, calendar_cli):
        app.cli.add_command(command)
