"""`flask sla …` and `flask calendar …`: deadlines as a policy computes them, and the holidays they count."""

import click
from flask.cli import with_appcontext

from intake.admin.services import CalendarImportError, deadline, import_calendar
from intake.transaction import transaction
from routing.calendar import parse_local_time

sla_cli = click.Group("sla", help="Time limits: check a deadline as a policy would compute it.")
calendar_cli = click.Group("calendar", help="Holidays and make-up working days for years chinesecalendar lacks.")


@sla_cli.command("due")
@click.option("--start", required=True, help="Local time in Asia/Shanghai, e.g. 2026-09-28T10:00")
@click.option("--working-days", type=int)
@click.option("--calendar-days", type=int)
@click.option("--hours", type=int)
@with_appcontext
def sla_due(start, working_days, calendar_days, hours):
    """Print the deadline of a limit counted from START (day of receipt not counted)."""
    given = [
        (u, n)
        for u, n in (("working_days", working_days), ("calendar_days", calendar_days), ("hours", hours))
        if n is not None
    ]
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


@calendar_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def calendar_import(path):
    """Import days from a CSV with columns day,working,note (working: 1 for a make-up working day)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    try:
        with transaction():
            count = import_calendar(text)
    except CalendarImportError as exc:
        raise click.ClickException(f"未录入：{exc}")
    click.echo(f"已录入 {count} 天。")
