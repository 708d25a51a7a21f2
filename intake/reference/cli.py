"""`flask divisions …`: the gazetteer of divisions (`flask seed` composes everything at the app shell)."""

import click
from flask.cli import with_appcontext

from intake.extensions import db
from intake.reference.models import Division
from intake.reference.seed import import_divisions, seed_departments
from intake.transaction import transaction
from routing import reference
from routing.services import invalidate_router

divisions_cli = click.Group("divisions", help="The gazetteer of administrative divisions.")


@divisions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--attributes",
    type=click.Path(exists=True, dir_okay=False),
    help="attributes.csv with each code's kind (街道/镇/乡/村/社区)",
)
@with_appcontext
def divisions_import(path, attributes):
    """Import NBS division codes from a CSV (code,name,level,parent_code): a province or the country."""
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
    division = db.session.get(Division, code)
    if division is None:
        raise click.BadParameter(f"unknown division code {code!r}", param_hint="CODE")
    name = name.strip()
    if len(name) < 2:
        raise click.BadParameter("an alias needs at least two characters", param_hint="NAME")
    with transaction():  # committed, and audited, before every process is told to rebuild
        try:
            added = reference.add_alias(code, name)
        except reference.ReferenceDataError as exc:
            raise click.BadParameter(str(exc), param_hint="NAME") from None
    if not added:
        click.echo(f"'{name}' 已是{division.name}的名称，未改动。")
        return
    click.echo(f"'{name}' → {division.name}（{code}）的别名：{'、'.join(division.aliases)}")
