"""Business files (监管档案): one business and its cases; repeat offenders for supervisors."""

from flask import Blueprint, render_template
from flask_login import current_user

from intake.authz import target_or_404, visible_business_cases
from intake.businesses.models import Business
from intake.businesses.services import repeat_offenders
from intake.extensions import db

bp = Blueprint("businesses", __name__, url_prefix="/staff")


@bp.get("/businesses")
def businesses():
    rows = repeat_offenders(county_code=current_user.county_code)
    return render_template("staff/businesses.html", rows=rows)


@bp.get("/businesses/<int:business_id>")
def business(business_id: int):
    record = target_or_404("business.view", db.session.get(Business, business_id))
    cases = visible_business_cases(current_user, record)
    return render_template("staff/business.html", business=record, cases=cases)
