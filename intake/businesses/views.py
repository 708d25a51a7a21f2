"""Business files (监管档案): one business and its cases; repeat offenders for supervisors."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from intake.businesses.models import Business
from intake.businesses.services import repeat_offenders
from intake.extensions import db
from intake.staff import services

bp = Blueprint("businesses", __name__, url_prefix="/staff")


@bp.get("/businesses")
@login_required
def businesses():
    rows = repeat_offenders(county_code=current_user.county_code)
    return render_template("staff/businesses.html", rows=rows)


@bp.get("/businesses/<int:business_id>")
@login_required
def business(business_id: int):
    record = db.session.get(Business, business_id)
    if record is None:
        abort(404)
    cases = services.visible_business_cases(current_user, record)
    return render_template("staff/business.html", business=record, cases=cases)
