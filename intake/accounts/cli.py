"""`flask create-user`: a staff login from the command line, checked by the same rule as the page."""

import click
from flask import current_app
from flask.cli import with_appcontext

from intake.accounts.models import Role
from intake.accounts.services import StaffFields, UserError, create_user
from intake.extensions import db
from intake.reference.models import Department
from intake.transaction import transaction

OPTIONS = {
    "username": "USERNAME",
    "password": "--password",
    "display_name": "--name",
    "county_code": "--county",
    "department_id": "--department-kind",
    "township_code": "--township",
    "phone": "--phone",
    "email": "--email",
}


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--county", default=None, help="County code, e.g. 330324 (a department's or township's follows from it)")
@click.option(
    "--department-kind", default=None, help="market, agriculture, … (with --county); needed for --role department"
)
@click.option("--township", default=None, help="Township code, e.g. 330324009; needed for --role township")
@click.option("--phone", default="", help="Mobile for duty SMS, e.g. 13812345678")
@click.option("--email", default="", help="Address for duty mail")
@click.option("--on-duty/--off-duty", default=True, help="Gets the duty SMS and mail (default: on duty)")
@with_appcontext
def create_user_command(
    username, password, display_name, role, county, department_kind, township, phone, email, on_duty
):
    """Create a staff user."""
    department = None
    if department_kind:
        department = db.session.scalar(db.select(Department).filter_by(county_code=county, kind=department_kind))
        if department is None:
            raise click.BadParameter(
                "该县没有这个部门（--department-kind 需与 --county 一起使用）", param_hint="--department-kind"
            )
    fields = StaffFields(
        display_name,
        Role(role),
        county_code=county,
        department_id=department.id if department else None,
        township_code=township,
        phone=phone,
        email=email,
        on_duty=on_duty,
    )
    try:
        with transaction():
            create_user(username, password, fields, current_app.config.get("DEFAULT_REGION", "CN"))
    except UserError as exc:
        raise click.BadParameter(str(exc), param_hint=OPTIONS.get(exc.field, exc.field)) from None
    click.echo(f"用户 {username} 已创建。")
