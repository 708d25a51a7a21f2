"""The administrator's pages: validate a form, call one service, redirect."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from intake.accounts import services as account_services
from intake.accounts.models import Role, User
from intake.admin import services
from intake.admin.forms import (
    AliasForm,
    CalendarDayForm,
    CalendarImportForm,
    DeadlineForm,
    DepartmentForm,
    MessageFilterForm,
    MessageTemplateForm,
    NewUserForm,
    Open311KeyForm,
    PasswordResetForm,
    PolicyAddForm,
    PolicyEditForm,
    RuleForm,
    SmsWordForm,
    TermForm,
    TermWeightForm,
    UserForm,
)
from intake.extensions import db
from intake.open311 import services as open311_services
from intake.reference.models import Department, Industry, IndustryTerm, TimeLimitPolicy
from intake.reference.seed import POLICY_EPOCH, department_kind_names
from intake.staff.forms import ActionForm, errors_text
from intake.types import utcnow
from notify import services as notify_services
from notify.models import MessageTemplate
from routing import reference
from routing.calendar import TZ, to_local

bp = Blueprint("admin", __name__, url_prefix="/admin")
YEARS_AHEAD = 4
REFERENCE_TABLES = {
    "department": _l("部门"),
    "routing_rule": _l("分拨表"),
    "division": _l("地名别名"),
    "industry_term": _l("分类词"),
    "sms_keyword": _l("短信关键词"),
}


def _labels() -> dict:
    return {
        "clock_labels": services.POLICY_CLOCK_LABELS,
        "kind_labels": services.KIND_LABELS,
        "unit_labels": services.UNIT_LABELS,
        "counties": services.county_names(),
        "policy_epoch": POLICY_EPOCH,
    }


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html",
        missing_years=services.missing_years(),
        counts=services.dashboard_counts(),
        unreachable=services.unreachable_units(),
    )


# --- staff users -------------------------------------------------------------------------------


def _region() -> str:
    return current_app.config.get("DEFAULT_REGION", "CN")


@bp.get("/users")
def users():
    return render_template(
        "admin/users.html",
        users=account_services.staff_users(),
        townships=dict(account_services.township_choices()),
        counties=dict(account_services.county_choices()),
        locked=account_services.locked_usernames(),
        action_form=ActionForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = NewUserForm(region=_region())
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("admin/user_form.html", form=form, user=None), 400
        user = account_services.create_user(form.username.data, form.password.data, form.checked, _region())
        flash(_("已创建用户 %(name)s，请将初始密码告知本人。", name=user.username), "success")
        return redirect(url_for("admin.users", _anchor=f"user-{user.id}"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if request.method == "POST":
        form = UserForm(region=_region())
        ok = form.validate_on_submit()
        if ok and user.id == current_user.id and form.checked.role is not Role.ADMIN:
            form.role.errors.append(_("不能取消自己的系统管理员角色。"))
            ok = False
        if not ok:
            return _user_page(user, form, status=400)
        account_services.update_user(user, form.checked, _region())
        flash(_("已保存 %(name)s 的资料。", name=user.username), "success")
        return redirect(url_for("admin.users", _anchor=f"user-{user.id}"))
    return _user_page(user)


def _user_page(user, form=None, password_form=None, status: int = 200):
    form = form or UserForm(
        formdata=None,
        region=_region(),
        display_name=user.display_name,
        role=user.role.value,
        county_code=user.county_code or "",
        department_id=str(user.department_id or ""),
        township_code=user.township_code or "",
        phone=user.phone,
        email=user.email,
        on_duty=user.on_duty,
    )
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        password_form=password_form or PasswordResetForm(formdata=None),
        locked=user.username in account_services.locked_usernames(),
        action_form=ActionForm(),
    ), status


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _user_page(user, password_form=form, status=400)
    if account_services.reset_password(user, form.password.data):
        flash(_("已为 %(name)s 设置新密码并解除登录锁定，请告知本人。", name=user.username), "success")
    else:
        flash(_("已为 %(name)s 设置新密码，请告知本人。", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    if not active and user.id == current_user.id:
        flash(_("不能停用自己的账号。"), "error")
        return redirect(url_for("admin.users", _anchor=f"user-{user.id}"))
    account_services.set_active(user, active)
    if active:
        flash(_("已启用 %(name)s。", name=user.username), "success")
    else:
        flash(_("已停用 %(name)s：不能再登录，也不再接收通知。", name=user.username), "success")
    return redirect(url_for("admin.users", _anchor=f"user-{user.id}"))


# --- time limits -------------------------------------------------------------------------------


def _policies_page(add_form: PolicyAddForm | None = None, status: int = 200):
    histories = services.policies_in_force()
    edit_forms = {
        h.current.id: PolicyEditForm(
            h.current, formdata=None, amount=h.current.amount, unit=h.current.unit.value, note=h.current.note
        )
        for h in histories
    }
    check_form, result = DeadlineForm(request.args), None
    if "start" in request.args and check_form.validate():
        result = services.deadline(
            check_form.start.data.replace(tzinfo=TZ), check_form.amount.data, check_form.unit.data
        )
    return render_template(
        "admin/policies.html",
        histories=histories,
        edit_forms=edit_forms,
        add_form=add_form or PolicyAddForm(formdata=None),
        check_form=check_form,
        result=result,
        **_labels(),
    ), status


@bp.get("/policies")
def policies():
    return _policies_page()


@bp.post("/policies")
def add_policy():
    form = PolicyAddForm()
    if not form.validate_on_submit():
        flash(_("未保存：") + errors_text(form), "error")
        return _policies_page(form, 400)
    row = services.add_policy(
        form.jurisdiction.data,
        form.case_kind.data,
        form.urgent.data,
        form.clock.data,
        form.amount.data,
        form.unit.data,
        form.note.data or "",
        actor=current_user,
    )
    flash(_("新时限自现在起对新受理的案件生效，已受理的案件仍按原时限。"), "success")
    return redirect(url_for("admin.policies", _anchor=f"policy-{row.id}"))


@bp.post("/policies/<int:policy_id>")
def revise_policy(policy_id: int):
    policy = db.session.get(TimeLimitPolicy, policy_id) or abort(404)
    form = PolicyEditForm(policy)
    if not form.validate_on_submit():
        flash(_("未保存：") + errors_text(form), "error")
        return redirect(url_for("admin.policies", _anchor=f"policy-{policy_id}"))
    row = services.revise_policy(policy, form.amount.data, form.unit.data, form.note.data or "", actor=current_user)
    flash(_("新时限自现在起对新受理的案件生效，已受理的案件仍按原时限。"), "success")
    return redirect(url_for("admin.policies", _anchor=f"policy-{row.id}"))


# --- the holiday calendar ----------------------------------------------------------------------


def _calendar_page(day_form=None, import_form=None, status: int = 200):
    this_year = to_local(utcnow()).year
    return render_template(
        "admin/calendar.html",
        days_by_year=services.calendar_days_by_year(),
        years=services.year_statuses(range(this_year, this_year + YEARS_AHEAD + 1)),
        day_form=day_form or CalendarDayForm(formdata=None),
        import_form=import_form or CalendarImportForm(formdata=None),
        action_form=ActionForm(),
    ), status


@bp.get("/calendar")
def calendar():
    return _calendar_page()


@bp.post("/calendar/days")
def add_calendar_day():
    form = CalendarDayForm()
    if not form.validate_on_submit():
        flash(_("未保存：") + errors_text(form), "error")
        return _calendar_page(day_form=form, status=400)
    services.save_calendar_days([form.entry])
    flash(_("已保存 %(day)s。", day=form.entry.day.isoformat()), "success")
    return redirect(url_for("admin.calendar", _anchor=f"year-{form.entry.day.year}"))


@bp.post("/calendar/days/<day>/delete")
def delete_calendar_day(day: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if services.delete_calendar_day(when):
        flash(_("已删除 %(day)s。", day=when.isoformat()), "success")
    return redirect(url_for("admin.calendar", _anchor=f"year-{when.year}"))


@bp.post("/calendar/import")
def import_calendar():
    form = CalendarImportForm()
    if not form.validate_on_submit():
        flash(_("未录入：") + errors_text(form), "error")
        return _calendar_page(import_form=form, status=400)
    count = services.save_calendar_days(form.entries)
    flash(_("已录入 %(n)d 天。", n=count), "success")
    return redirect(url_for("admin.calendar"))


# --- messages out --------------------------------------------------------------------------------


@bp.get("/messages")
def messages():
    form = MessageFilterForm(request.args)
    rows = (
        notify_services.message_log(form.status.data or "", form.channel.data or "", form.recipient.data or "")
        if form.validate()
        else []
    )
    return render_template(
        "admin/messages.html",
        form=form,
        messages=rows,
        masked=notify_services.masked_recipient,
        reveal_form=ActionForm(),
        status_labels=notify_services.STATUS_LABELS,
        channel_labels=notify_services.CHANNEL_LABELS,
    )


@bp.get("/sms/unreadable")
def unreadable_sms():
    """Signed SMS the webhook could not read (bad encoding, NULs, lone surrogates…): kept, answered 200."""
    return render_template("admin/unreadable_sms.html", rows=services.unreadable_sms(), masked=services.masked_numbers)


@bp.post("/messages/<int:message_id>/recipient")
def reveal_recipient(message_id: int):
    """显示号码: one message's recipient, unmasked; the look is logged like any look at personal data."""
    if not ActionForm().validate_on_submit():
        abort(400)
    message = services.reveal_recipient(current_user, message_id) or abort(404)
    return render_template(
        "admin/message_recipient.html",
        message=message,
        status_labels=notify_services.STATUS_LABELS,
        channel_labels=notify_services.CHANNEL_LABELS,
    )


def _templates_page(failed: MessageTemplateForm | None = None, status: int = 200):
    views = notify_services.template_overview()
    forms = {v.row.key: MessageTemplateForm(v.row.key, formdata=None, text=v.row.text) for v in views}
    if failed is not None:
        forms[failed.key] = failed
    return render_template(
        "admin/templates.html",
        views=views,
        forms=forms,
        channel_labels=notify_services.CHANNEL_LABELS,
        segment=notify_services.SMS_SEGMENT,
    ), status


@bp.get("/templates")
def templates():
    return _templates_page()


@bp.post("/templates/<key>")
def edit_template(key: str):
    db.session.get(MessageTemplate, key) or abort(404)
    form = MessageTemplateForm(key)
    if not form.validate_on_submit():
        flash(_("未保存：") + errors_text(form), "error")
        return _templates_page(form, 400)
    notify_services.save_template(key, form.text.data, actor=current_user)
    if form.preview.segments > 1:
        flash(
            _(
                "已保存。按示例内容共 %(n)d 字，将分 %(parts)d 条短信发送。",
                n=form.preview.length,
                parts=form.preview.segments,
            ),
            "notice",
        )
    else:
        flash(_("已保存，此后发出的通知使用新内容。"), "success")
    return redirect(url_for("admin.templates", _anchor=f"template-{key}"))


# --- reference data: departments, the routing table, place aliases, the classifier's terms --------


def _kind_labels(county_code: str) -> dict:
    names = department_kind_names()
    return {k: names.get(k, k) for k in sorted(reference.department_kinds(county_code), key=list(names).index)}


def _industry_labels() -> dict:
    rows = db.session.scalars(sa.select(Industry).order_by(Industry.position)).all()
    return {i.code: i.name for i in rows}


def _county_or_404(county_code: str):
    try:
        return reference.county(county_code)
    except reference.ReferenceDataError:
        abort(404)


@bp.get("/reference/")
def reference_index():
    return render_template(
        "admin/reference_index.html",
        counties=services.county_names(),
        changes=reference.recent_changes(list(REFERENCE_TABLES)),
        table_labels=REFERENCE_TABLES,
    )


def _county_page(county_code: str, failed: dict | None = None, status: int = 200):
    division = _county_or_404(county_code)
    kinds = _kind_labels(county_code)
    departments = db.session.scalars(
        sa.select(Department).filter_by(county_code=county_code).order_by(Department.kind)
    ).all()
    table = reference.routing_table(county_code)
    failed = failed or {}
    dept_forms = {
        d.kind: failed.get(("dept", d.kind)) or DepartmentForm(formdata=None, prefix=f"dept-{d.kind}", name=d.name)
        for d in departments
    }
    rule_forms = {
        row["industry"].code: failed.get(("rule", row["industry"].code))
        or RuleForm(
            kinds,
            formdata=None,
            prefix=f"rule-{row['industry'].code}",
            lead=row["rule"].lead_kind if row["rule"] else None,
            co=list(row["rule"].co_handler_kinds or []) if row["rule"] else [],
        )
        for row in table
    }
    return render_template(
        "admin/reference_county.html",
        county=division,
        kinds=kinds,
        departments=departments,
        dept_forms=dept_forms,
        table=table,
        rule_forms=rule_forms,
        alias_form=failed.get("alias") or AliasForm(county_code, formdata=None, prefix="alias"),
        aliased=reference.divisions_with_aliases(county_code),
        action_form=ActionForm(),
        changes=reference.recent_changes(["department", "routing_rule", "division"], key_prefix=county_code),
        table_labels=REFERENCE_TABLES,
    ), status


@bp.get("/reference/<county_code>")
def reference_county(county_code: str):
    return _county_page(county_code)


@bp.post("/reference/<county_code>/departments/<kind>")
def rename_department(county_code: str, kind: str):
    _county_or_404(county_code)
    form = DepartmentForm(prefix=f"dept-{kind}")
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        reference.rename_department(county_code, kind, form.name.data, actor=current_user)
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _county_page(county_code, {("dept", kind): form}, 400)
    flash(_("已保存，新分拨的案件使用新名称。"), "success")
    return redirect(url_for("admin.reference_county", county_code=county_code, _anchor="departments"))


@bp.post("/reference/<county_code>/rules/<industry>")
def set_rule(county_code: str, industry: str):
    _county_or_404(county_code)
    form = RuleForm(_kind_labels(county_code), prefix=f"rule-{industry}")
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        reference.set_rule(county_code, industry, form.lead.data, list(form.co.data or []), actor=current_user)
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _county_page(county_code, {("rule", industry): form}, 400)
    flash(_("已保存，下一件案件即按新的分拨表分拨。"), "success")
    return redirect(url_for("admin.reference_county", county_code=county_code, _anchor=f"rule-{industry}"))


@bp.post("/reference/<county_code>/rules/<industry>/reset")
def reset_rule(county_code: str, industry: str):
    _county_or_404(county_code)
    if not ActionForm().validate_on_submit():
        abort(400)
    if reference.reset_rule(county_code, industry, actor=current_user):
        flash(_("已恢复为各县通用的分拨规则。"), "success")
    return redirect(url_for("admin.reference_county", county_code=county_code, _anchor=f"rule-{industry}"))


@bp.post("/reference/<county_code>/aliases")
def add_alias(county_code: str):
    _county_or_404(county_code)
    form = AliasForm(county_code, prefix="alias")
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        added = reference.add_alias(form.code.data, form.name.data, actor=current_user)
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _county_page(county_code, {"alias": form}, 400)
    flash(_("已添加别名。") if added else _("这个名称已有，未改动。"), "success" if added else "notice")
    return redirect(url_for("admin.reference_county", county_code=county_code, _anchor="aliases"))


@bp.post("/reference/<county_code>/aliases/<code>/delete")
def remove_alias(county_code: str, code: str):
    _county_or_404(county_code)
    if not ActionForm().validate_on_submit() or not code.startswith(county_code):
        abort(400)
    try:
        removed = reference.remove_alias(code, request.form.get("name", ""), actor=current_user)
    except reference.ReferenceDataError:
        abort(404)
    if removed:
        flash(_("已删除别名。"), "success")
    return redirect(url_for("admin.reference_county", county_code=county_code, _anchor="aliases"))


TERMS_SHOWN = 200


def _terms_page(add_form: TermForm | None = None, status: int = 200):
    industries = _industry_labels()
    industry = request.args.get("industry") or next(iter(industries), "")
    q = (request.args.get("q") or "").strip()
    query = sa.select(IndustryTerm).order_by(IndustryTerm.industry_code, IndustryTerm.term)
    if q:
        query = query.where(IndustryTerm.term.contains(q, autoescape=True))
    elif industry:
        query = query.filter_by(industry_code=industry)
    terms = db.session.scalars(query.limit(TERMS_SHOWN)).all()
    return render_template(
        "admin/reference_terms.html",
        industries=industries,
        industry=industry,
        q=q,
        terms=terms,
        add_form=add_form or TermForm(industries, formdata=None, prefix="term", industry=industry, weight=2.0),
        action_form=ActionForm(),
        changes=reference.recent_changes(["industry_term"]),
        table_labels=REFERENCE_TABLES,
    ), status


@bp.get("/reference/terms")
def reference_terms():
    return _terms_page()


@bp.post("/reference/terms")
def set_term():
    form = TermForm(_industry_labels(), prefix="term")
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        row = reference.set_term(
            form.term.data, form.industry.data, form.weight.data, form.note.data or "", actor=current_user
        )
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _terms_page(form, 400)
    flash(_("已保存，下一件案件即按新的词表分类。"), "success")
    return redirect(url_for("admin.reference_terms", industry=row.industry_code))


@bp.post("/reference/terms/<int:term_id>")
def reweigh_term(term_id: int):
    row = db.session.get(IndustryTerm, term_id) or abort(404)
    form = TermWeightForm()
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        reference.set_term(row.term, row.industry_code, form.weight.data, form.note.data or "", actor=current_user)
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _terms_page(status=400)
    flash(_("已保存，下一件案件即按新的词表分类。"), "success")
    return redirect(url_for("admin.reference_terms", industry=row.industry_code))


@bp.post("/reference/terms/<int:term_id>/delete")
def remove_term(term_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    row = reference.remove_term(term_id, actor=current_user) or abort(404)
    flash(_("已删除“%(term)s”。", term=row.term), "success")
    return redirect(url_for("admin.reference_terms", industry=row.industry_code))


# --- the SMS keywords ----------------------------------------------------------------------------


def _sms_words_page(add_form: SmsWordForm | None = None, status: int = 200):
    return render_template(
        "admin/reference_sms_words.html",
        keywords=reference.sms_keyword_list(),
        meanings=reference.SMS_MEANINGS,
        add_form=add_form or SmsWordForm(formdata=None, prefix="word"),
        action_form=ActionForm(),
        changes=reference.recent_changes(["sms_keyword"]),
        table_labels=REFERENCE_TABLES,
    ), status


@bp.get("/reference/sms-words")
def reference_sms_words():
    return _sms_words_page()


@bp.post("/reference/sms-words")
def add_sms_word():
    form = SmsWordForm(prefix="word")
    try:
        if not form.validate_on_submit():
            raise reference.ReferenceDataError(errors_text(form))
        row = reference.add_sms_keyword(form.word.data, form.meaning.data, actor=current_user)
    except reference.ReferenceDataError as exc:
        flash(_("未保存：") + str(exc), "error")
        return _sms_words_page(form, 400)
    flash(_("已添加“%(word)s”，下一条短信即按新的关键词判断。", word=row.word), "success")
    return redirect(url_for("admin.reference_sms_words", _anchor=f"meaning-{row.meaning}"))


@bp.post("/reference/sms-words/<int:keyword_id>/delete")
def remove_sms_word(keyword_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    row = reference.remove_sms_keyword(keyword_id, actor=current_user) or abort(404)
    flash(_("已删除“%(word)s”。", word=row.word), "success")
    return redirect(url_for("admin.reference_sms_words", _anchor=f"meaning-{row.meaning}"))


# --- Open311 API keys ----------------------------------------------------------------------------


def _open311_keys_page(form: Open311KeyForm | None = None, new_key: str | None = None, status: int = 200):
    if form is None:
        form = Open311KeyForm(formdata=None, prefix="key", rate_limit=current_app.config["OPEN311_KEY_RATE_LIMIT"])
    return render_template(
        "admin/open311_keys.html",
        keys=open311_services.key_list(),
        form=form,
        new_key=new_key,
        action_form=ActionForm(),
    ), status


@bp.get("/open311-keys")
def open311_keys():
    return _open311_keys_page()


@bp.post("/open311-keys")
def issue_open311_key():
    form = Open311KeyForm(prefix="key")
    if not form.validate_on_submit():
        flash(_("未签发：") + errors_text(form), "error")
        return _open311_keys_page(form, status=400)
    key, raw = open311_services.issue_key(form.organisation.data, form.rate_limit.data, actor=current_user)
    flash(_("已为“%(org)s”签发 key：它只显示这一次，请现在复制交给对方。", org=key.organisation), "success")
    return _open311_keys_page(new_key=raw)  # shown once, on this answer only (no-store), never stored


@bp.post("/open311-keys/<int:key_id>/revoke")
def revoke_open311_key(key_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    key = open311_services.revoke_key(key_id, actor=current_user) or abort(404)
    flash(_("已吊销“%(org)s”的 key（%(prefix)s…）。", org=key.organisation, prefix=key.prefix), "success")
    return redirect(url_for("admin.open311_keys"))
