"""Staff queues and case pages: validate, call one service, redirect."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from intake.authz import (
    case_for,
    current_permission,
    get_visible_case,
    may,
    may_see_identity,
    role_may,
    routing_candidates,
    routing_reasons,
)
from intake.callbacks import services as callbacks
from intake.callbacks.models import Callback
from intake.cases.models import CaseStatus, Extension
from intake.dispatch.forms import DispatchForm, TransferForm
from intake.dispatch.services import may_merge
from intake.extensions import db
from intake.navigation import id_arg, local_or, nul_characters_handled
from intake.places.services import describe_places
from intake.staff import extension_requests as extensions
from intake.staff import services
from intake.staff.forms import (
    ActionForm,
    CallbackForm,
    CoOpinionForm,
    ExtensionDecisionForm,
    ExtensionForm,
    QueueFilterForm,
    ReopenForm,
    ReplyForm,
    ReturnForm,
    SiteVisitForm,
    errors_text,
)
from intake.transaction import transactional
from routing import sweeps

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@nul_characters_handled  # a NUL is a form error on the queue
def queue():
    if role_may(current_user, "triage.view"):
        return redirect(url_for("dispatch.triage"))
    if role_may(current_user, "hotline.take"):
        return redirect(url_for("hotline.console"))
    form = QueueFilterForm(request.args)
    industries, townships = services.filter_choices(current_user)
    form.industry.choices = [SelectChoice("", _("全部行业"))] + [SelectChoice(c, n) for c, n in industries]
    form.township.choices = [SelectChoice("", _("全部乡镇街道"))] + [SelectChoice(c, n) for c, n in townships]
    form.validate()
    chosen, page = form.chosen()
    result = services.queue_page(current_user, services.QueueFilter(**chosen), page)
    # the page links keep the filters that were valid, and nothing else
    args = {k: v for k, v in request.args.items() if k in form and k != "page" and not form[k].errors}
    return render_template(
        "staff/queue.html",
        form=form,
        result=result,
        counts=services.queue_counts(current_user),
        township=services.division_name(current_user.township_code) if current_user.township_code else "",
        filtered=any(chosen.values()),
        page_url=lambda n: url_for("staff.queue", **args, page=n),
    )


@bp.get("/cases/<int:case_id>")
@transactional  # a GET that writes on purpose: each look at a complainant's identity is logged
def case_detail(case_id: int):
    case = case_for("case.view", case_id)
    show_identity = may_see_identity(current_user, case)
    if show_identity and (case.complainant_name or case.complainant_phone):
        services.log_identity_view(current_user, case, "view_case")
    reply_form = ReplyForm()
    reply_form.result.choices = [SelectChoice(k, v) for k, v in services.RESULTS[case.kind].items()]
    dispatching = may(current_user, "case.dispatch", case) and case.status is CaseStatus.TRIAGE
    return render_template(
        "staff/case.html",
        case=case,
        show_identity=show_identity,
        reasons=routing_reasons(current_user, case),
        actions=services.actions_for(current_user, case),
        action_form=ActionForm(),
        return_form=ReturnForm(),
        reply_form=reply_form,
        may_merge=may_merge(current_user, case),
        dispatch_form=_dispatch_form(case) if dispatching else None,
        transfer_form=TransferForm() if dispatching else None,
        candidates=describe_places(routing_candidates(current_user, case)) if dispatching else [],
        extension_form=ExtensionForm() if extensions.may_request(current_user, case) else None,
        case_extensions=extensions.case_extensions(case),
        decision_form=ExtensionDecisionForm() if may(current_user, "extension.decide", case) else None,
        reopen_form=ReopenForm() if callbacks.may_reopen(current_user, case) else None,
        callback_form=CallbackForm() if _may_call_back(case) else None,
        callbacks=db.session.scalars(
            sa.select(Callback).where(Callback.case_id == case.id).order_by(Callback.id)
        ).all(),
        ANSWER_LABELS=callbacks.ANSWER_LABELS,
        participation=services.participation_notes(case),
        site_visit_form=SiteVisitForm() if _may_take_part(services.may_record_site_visit, case) else None,
        opinion_form=CoOpinionForm() if _may_take_part(services.may_add_co_handler_opinion, case) else None,
    )


def _may_take_part(may, case) -> bool:
    return may(current_user, case) and case.status is not CaseStatus.CLOSED


def _dispatch_form(case) -> DispatchForm:
    """The machine's industry and township (if it had one) filled in for the dispatcher to confirm."""
    township = describe_places([case.township_code])
    return DispatchForm(
        industry=case.industry_code,
        township=township[0]["name"] if township else "",
        township_code=township[0]["code"] if township else "",
    )


def _may_call_back(case) -> bool:
    return (
        may(current_user, "case.phone_callback", case)
        and case.status is CaseStatus.REPLIED
        and callbacks.open_callback(case) is not None
    )


def _submit(case_id: int, form, action, *fields: str, done: str):
    """Validate a case action's form, then run the action with those fields' values."""
    case_for(current_permission(), case_id)  # an invalid form on a case out of reach is a 404/403
    if not form.validate_on_submit():
        flash(errors_text(form), "error")
        return redirect(url_for("staff.case_detail", case_id=case_id))
    return _run(case_id, action, *(form[name].data for name in fields), done=done)


def _run(case_id: int, action, *args, done: str):
    case = case_for(current_permission(), case_id)
    try:
        action(case, current_user, *args)
    except (services.ActionError, services.TransitionError) as exc:
        flash(str(exc) if isinstance(exc, services.ActionError) else _("案件状态已经改变，请刷新后再试。"), "error")
    else:
        if get_visible_case(current_user, case_id) is None:  # e.g. 退单: no longer the user's
            flash(_("%(done)s 案件 %(no)s 已不在您的待办中。", done=done, no=case.tracking_no), "success")
            return redirect(url_for("staff.queue"))
        flash(done, "success")
    return redirect(url_for("staff.case_detail", case_id=case_id))


@bp.post("/cases/<int:case_id>/sign")
def sign(case_id: int):
    case_for("case.sign", case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(case_id, services.sign_case, done=_("已签收。"))


@bp.post("/cases/<int:case_id>/return")
def return_(case_id: int):
    return _submit(case_id, ReturnForm(), services.return_case, "reason", done=_("已退单，案件回到人工分拨。"))


@bp.post("/cases/<int:case_id>/accept")
def accept(case_id: int):
    case_for("case.accept", case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run(case_id, services.accept_case, done=_("已决定受理，调解期限开始计算。"))


@bp.post("/cases/<int:case_id>/extension")
def request_extension(case_id: int):
    return _submit(
        case_id, ExtensionForm(), extensions.request_extension, "reason", done=_("延期申请已提交，等待督办人员审批。")
    )


@bp.post("/extensions/<int:extension_id>")
def decide_extension(extension_id: int):
    case_id = db.session.scalar(sa.select(Extension.case_id).filter_by(id=extension_id)) or abort(404)
    case_for("extension.decide", case_id)  # the case's lock first: two decisions at once go one by one
    ext = db.session.get(Extension, extension_id, populate_existing=True)  # as the decision before left it
    form = ExtensionDecisionForm()
    if not form.validate_on_submit():
        flash(errors_text(form), "error")
    else:
        try:
            extensions.decide_extension(ext, current_user, form.decision.data == "approve", form.note.data)
        except services.ActionError as exc:
            flash(str(exc), "error")
        else:
            flash(_("已批准延期。") if form.decision.data == "approve" else _("已不予延期。"), "success")
    return redirect(local_or(form.next.data, url_for("staff.case_detail", case_id=ext.case_id)))


@bp.post("/cases/<int:case_id>/reopen")
def reopen(case_id: int):
    return _submit(case_id, ReopenForm(), callbacks.reopen_case, "reason", done=_("已发回重办，重办期限开始计算。"))


@bp.post("/cases/<int:case_id>/reply")
def reply(case_id: int):
    form = ReplyForm()
    form.result.choices = [SelectChoice(k) for kinds in services.RESULTS.values() for k in kinds]
    return _submit(case_id, form, services.reply_case, "result", "text", done=_("已办结答复。"))


@bp.post("/cases/<int:case_id>/callback")
def phone_callback(case_id: int):
    """电话回访: an operator records what the complainant said on the phone."""
    return _submit(case_id, CallbackForm(), callbacks.record_by_phone, "answer", "note", done=_("已登记回访结果。"))


@bp.post("/cases/<int:case_id>/site-visit")
def site_visit(case_id: int):
    """协办意见 of the township: the site visit's date and findings."""
    return _submit(
        case_id,
        SiteVisitForm(),
        services.record_site_visit,
        "visited_on",
        "findings",
        done=_("已登记现场核查情况，牵头部门可在案件页看到。"),
    )


@bp.post("/cases/<int:case_id>/co-opinion")
def co_opinion(case_id: int):
    """协办意见 of a co-handling department."""
    return _submit(case_id, CoOpinionForm(), services.add_co_handler_opinion, "opinion", done=_("已提交协办意见。"))


PENDING_SHOWN = 50  # oldest first; the rest follow as these are decided


@bp.get("/overdue")
def overdue():
    """督办: red and amber clocks by department and township, problem cases, extension requests."""
    county = current_user.county_code
    department_id = request.args.get("department", type=id_arg)
    township = request.args.get("township") or None
    return render_template(
        "staff/overdue.html",
        clocks=sweeps.overdue_clocks(county, department_id=department_id, township_code=township),
        summary=sweeps.cached_overdue_summary(county),
        problems=sweeps.problem_cases(county),
        pending=extensions.pending_extensions(current_user, limit=PENDING_SHOWN),
        pending_total=extensions.count_pending(current_user),
        filtered=bool(department_id or township),
    )
