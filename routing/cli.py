"""`flask routing …`: run the router on case files, refit its confidence, teach it a word."""

import json
import sys

import click
from flask.cli import with_appcontext

from intake.extensions import db
from intake.reference.models import Division, DivisionLevel, Industry
from intake.transaction import transaction
from routing import reference
from routing.router.calibrate import DEFAULT_PATH
from routing.services import get_router, invalidate_router

routing_cli = click.Group("routing", help="Run the router on case files.")


@routing_cli.command("add-term")
@click.argument("term")
@click.argument("industry")
@click.option("--weight", default=2.0, show_default=True, help="0 only blocks shorter words inside it")
@click.option("--note", default="")
@with_appcontext
def routing_add_term(term, industry, weight, note):
    """Teach the classifier a word (or change its weight); every worker picks it up."""
    if db.session.get(Industry, industry) is None:
        raise click.BadParameter(f"unknown industry {industry!r}", param_hint="INDUSTRY")
    with transaction():  # committed, and audited, before every worker is told to rebuild
        try:
            reference.set_term(term, industry, weight, note)
        except reference.ReferenceDataError as exc:
            raise click.BadParameter(str(exc)) from None
    click.echo(f"'{term}' → {industry}（权重 {weight}）")


@routing_cli.command("set-rule")
@click.argument("county")
@click.argument("industry")
@click.option("--lead", required=True, help="the lead department's kind (market, agriculture …)")
@click.option("--co", default="", help="co-handling department kinds, comma-separated")
@with_appcontext
def routing_set_rule(county, industry, lead, co):
    """Set one county's lead and co-handlers for an industry; every web and worker process picks it up."""
    division = db.session.get(Division, county)
    if division is None or division.level is not DivisionLevel.COUNTY:
        raise click.BadParameter(f"unknown county code {county!r}", param_hint="COUNTY")
    if db.session.get(Industry, industry) is None or industry == "other":
        raise click.BadParameter(f"unknown industry {industry!r}", param_hint="INDUSTRY")
    co_kinds = [k.strip() for k in co.split(",") if k.strip()]
    kinds = reference.department_kinds(county)
    for kind, hint in [(lead, "--lead")] + [(k, "--co") for k in co_kinds]:
        if kind not in kinds:
            raise click.BadParameter(f"{division.name} has no department of kind {kind!r}", param_hint=hint)
    with transaction():  # committed, and audited, before every worker is told to rebuild
        try:
            reference.set_rule(county, industry, lead, co_kinds)
        except reference.ReferenceDataError as exc:
            raise click.BadParameter(str(exc)) from None
    click.echo(f"{division.name}：{industry} → {lead}牵头" + (f"，{'、'.join(co_kinds)}配合" if co_kinds else ""))


@routing_cli.command("predict")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def routing_predict(path):
    """Write one JSON line per case: the router's decision."""
    from routing.router.evaluate import load_cases, predict_line  # the router's modules: not at app import

    router = get_router()
    out = sys.stdout
    for case in load_cases(path):
        out.write(json.dumps(predict_line(router, case), ensure_ascii=False) + "\n")


@routing_cli.command("eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--verbose", is_flag=True, help="Show the router's reasons for each mistake.")
@click.option(
    "--part",
    type=click.Choice(["train", "holdout"]),
    default=None,
    help="Only the fixed train or holdout part of the file.",
)
@click.option(
    "--tags",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help='id → {"cats": [...]} JSON: precision, coverage and triage recall per category.',
)
@with_appcontext
def routing_eval(path, verbose, part, tags):
    """Print the mistakes, a reliability table, per-category rows (--tags) and
    precision, coverage, triage recall against each case's `expect`."""
    from routing.router.evaluate import evaluate, load_cases, load_tags

    report = evaluate(get_router(), load_cases(path, part))
    click.echo(report.format(verbose, load_tags(tags) if tags else None))


@routing_cli.command("calibrate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--target", default=0.98, show_default=True, type=float, help="Precision the threshold is chosen for (out-of-fold)."
)
@click.option("--out", default=None, help="Where to write the model (default: the shipped calibration.json).")
@with_appcontext
def routing_calibrate(paths, target, out):
    """Refit the confidence on the train part of labelled sets (default: the shared dev sets)
    and print its cross-validated precision, coverage and triage recall. Needs scikit-learn."""
    from routing.router.fit import fit, format_fit

    try:
        calibration, report = fit(get_router(), list(paths) or None, target)
    except ImportError as exc:
        raise click.ClickException(f"{exc}: pip install -e '.[train]'")
    calibration.save(out or DEFAULT_PATH)
    click.echo(format_fit(calibration, report))
    click.echo(f"已写入 {out or DEFAULT_PATH}；若设置了 ROUTING_MIN_CONFIDENCE，阈值以它为准。")
    invalidate_router()
