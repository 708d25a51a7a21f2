"""The triage queue and the dispatcher's actions."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.authz import case_for
from intake.cases.errors import ActionError
from intake.dispatch import services
from intake.dispatch.forms import DispatchForm, TransferForm
from intake.forms import ActionForm, errors_text
from intake.transaction import transactional

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")


@bp.get("/")
@transactional  # a GET that writes on purpose: a look at what a caller's phone told is logged
def triage():
    cases, reasons = services.triage_page(current_user)
    return render_template("dispatch/triage.html", cases=cases, reasons=reasons)


def _back(case_id: int):
    return redirect(url_for("staff.case_detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/route")
def route(case_id: int):
    case = case_for("case.dispatch", case_id)
    form = DispatchForm()
    if not form.validate_on_submit():
        flash(errors_text(form), "error")
        return _back(case_id)
    try:
        services.dispatch_case(
            case, current_user, form.chosen_township(), form.industry.data, form.lead_kind.data or ""
        )
    except ActionError as exc:
        flash(str(exc), "error")
        return _back(case_id)
    flash(_("已派单给 %(d)s。", d=case.lead_department.name), "success")
    return redirect(url_for("dispatch.triage"))


@bp.post("/cases/<int:case_id>/transfer")
def transfer(case_id: int):
    case = case_for("case.dispatch", case_id)
    form = TransferForm()
    if not form.validate_on_submit():
        flash(errors_text(form), "error")
        return _back(case_id)
    try:
        services.transfer_out(case, current_user, form.reason.data)
    except ActionError as exc:
        flash(str(exc), "error")
        return _back(case_id)
    flash(_("已转出。"), "success")
    return redirect(url_for("dispatch.triage"))


@bp.post("/cases/<int:case_id>/merge")
def merge(case_id: int):
    case = case_for("case.merge", case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        master = services.merge_case(case, current_user)
    except ActionError as exc:
        flash(str(exc), "error")
        return _back(case_id)
    flash(_("已并入 %(no)s。", no=master.tracking_no), "success")
    return _back(master.id)
