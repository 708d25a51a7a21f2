"""`flask create-user`: a staff login from the command line."""

import click
from flask.cli import with_appcontext

from intake.accounts.models import Role
from intake.accounts.services import ensure_user
from intake.extensions import db
from intake.reference.models import Department
from intake.transaction import transaction


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    type=click.Choice(["department", "township", "dispatcher", "operator", "supervisor", "admin"]),
    required=True,
)
@click.option("--county", default=None, help="County code, e.g. 330324")
@click.option("--department-kind", default=None, help="market, agriculture, … (with --county)")
@click.option("--township", default=None, help="Township code, e.g. 330324101")
@with_appcontext
def create_user_command(username, password, display_name, role, county, department_kind, township):
    """Create a staff user."""
    department = None
    if department_kind:
        department = db.session.scalar(db.select(Department).filter_by(county_code=county, kind=department_kind))
        if department is None:
            raise click.BadParameter("no such department in that county", param_hint="--department-kind")
    with transaction():
        ensure_user(
            username,
            password,
            display_name,
            Role(role),
            county_code=county,
            department_id=department.id if department else None,
            township_code=township,
        )
    click.echo(f"用户 {username} 已创建。")
