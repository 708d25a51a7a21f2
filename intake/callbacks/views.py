"""不满意件: the dissatisfied callbacks a supervisor reopens or confirms."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intake.authz import case_for
from intake.callbacks import services as callbacks
from intake.callbacks.forms import CallbackReviewForm
from intake.callbacks.models import Callback
from intake.cases.errors import ActionError
from intake.extensions import db
from intake.forms import errors_text

bp = Blueprint("callbacks", __name__, url_prefix="/staff")


@bp.get("/callbacks")
def callback_reviews():
    """不满意件: dissatisfied callbacks a supervisor reopens or confirms."""
    return render_template(
        "staff/callbacks.html",
        items=callbacks.review_list(current_user),
        form=CallbackReviewForm(),
        ANSWER_LABELS=callbacks.ANSWER_LABELS,
    )


@bp.post("/callbacks/<int:callback_id>")
def review_callback(callback_id: int):
    item = db.session.get(Callback, callback_id) or abort(404)
    case_for("callback.review", item.case_id)
    form = CallbackReviewForm()
    if not form.validate_on_submit():
        flash(errors_text(form), "error")
    else:
        try:
            callbacks.review(item, current_user, form.decision.data == "reopen", form.reason.data)
        except ActionError as exc:
            flash(str(exc), "error")
        else:
            flash(
                _("已发回重办，重办期限开始计算。") if form.decision.data == "reopen" else _("已维持原答复并结案。"),
                "success",
            )
    return redirect(url_for("callbacks.callback_reviews"))
