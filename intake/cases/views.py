"""The citizen's pages: file a case, see the receipt, look a case up."""

from flask import Blueprint, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _

from intake.cases.forms import CaseForm
from intake.cases.lookup import LookupForm, by_tracking_no, public_view
from intake.cases.models import Channel
from intake.cases.services import Submission, find_case, submit_case
from intake.extensions import limiter
from intake.throttles import by_address, setting

bp = Blueprint("public", __name__)


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_FILING"), key_func=by_address, methods=["POST"])
def file_case():
    form = CaseForm()
    if form.validate_on_submit():
        case, code = submit_case(Submission.from_form(form, Channel.WEB), receipt="web_receipt")
        session["receipt"] = {"tracking_no": case.tracking_no, "lookup_code": code}
        return redirect(url_for("public.receipt"))
    return render_template("public/file.html", form=form)


@bp.get("/receipt")
def receipt():
    """The tracking number, and the lookup code once: a reload shows the number only."""
    data = session.get("receipt")
    if not data:
        return redirect(url_for("public.file_case"))
    session["receipt"] = {"tracking_no": data["tracking_no"]}  # the cookie no longer holds the code
    response = make_response(render_template("public/receipt.html", **data))
    response.headers["Cache-Control"] = "no-store"  # nor does the browser's cache, for Back
    return response


@bp.route("/lookup", methods=["GET", "POST"])
# shared with GET /api/v1/cases/<no>: a code guessed on either is the same secret
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_IP"), "lookup-address", key_func=by_address, methods=["POST"])
@limiter.shared_limit(setting("RATELIMIT_LOOKUP_CASE"), "lookup-case", key_func=by_tracking_no, methods=["POST"])
def lookup():
    form = LookupForm()
    view = None
    if form.validate_on_submit():
        case = find_case(form.tracking_no.data, form.lookup_code.data)
        if case is None:
            form.lookup_code.errors.append(_("受理编号或查询码不正确。"))
        else:
            view = public_view(case)
    return render_template("public/lookup.html", form=form, view=view)
