"""The administrator's pages: validate a form, call one service, redirect."""

from datetime import date
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from intake.accounts import services as account_services
from intake.accounts.models import Role, User
from intake.admin import services
from intake.admin.forms import (
    CalendarDayForm,
    CalendarImportForm,
    DeadlineForm,
    MessageFilterForm,
    MessageTemplateForm,
    NewUserForm,
    PasswordResetForm,
    PolicyAddForm,
    PolicyEditForm,
    UserForm,
)
from intake.extensions import db
from intake.reference.models import TimeLimitPolicy
from intake.reference.seed import POLICY_EPOCH
from intake.staff.forms import ActionForm, errors_text
from intake.types import utcnow
from notify import services as notify_services
from notify.models import MessageTemplate
from routing.calendar import TZ, to_local

bp = Blueprint("admin", __name__, url_prefix="/admin")
YEARS_AHEAD = 4


def admin_required(view):
    """403 for anyone but an administrator; stack under login_required."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role is not Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _labels() -> dict:
    return {
        "clock_labels": services.POLICY_CLOCK_LABELS,
        "kind_labels": services.KIND_LABELS,
        "unit_labels": services.UNIT_LABELS,
        "counties": services.county_names(),
        "policy_epoch": POLICY_EPOCH,
    }


@bp.get("/")
@login_required
@admin_required
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
@login_required
@admin_required
def users():
    return render_template(
        "admin/users.html",
        users=account_services.staff_users(),
        townships=dict(account_services.township_choices()),
        counties=dict(account_services.county_choices()),
        action_form=ActionForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@admin_required
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
@login_required
@admin_required
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
        action_form=ActionForm(),
    ), status


@bp.post("/users/<int:user_id>/password")
@login_required
@admin_required
def reset_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _user_page(user, password_form=form, status=400)
    account_services.reset_password(user, form.password.data)
    flash(_("已为 %(name)s 设置新密码，请告知本人。", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
@login_required
@admin_required
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
@login_required
@admin_required
def policies():
    return _policies_page()


@bp.post("/policies")
@login_required
@admin_required
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
@login_required
@admin_required
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
@login_required
@admin_required
def calendar():
    return _calendar_page()


@bp.post("/calendar/days")
@login_required
@admin_required
def add_calendar_day():
    form = CalendarDayForm()
    if not form.validate_on_submit():
        flash(_("未保存：") + errors_text(form), "error")
        return _calendar_page(day_form=form, status=400)
    services.save_calendar_days([form.entry])
    flash(_("已保存 %(day)s。", day=form.entry.day.isoformat()), "success")
    return redirect(url_for("admin.calendar", _anchor=f"year-{form.entry.day.year}"))


@bp.post("/calendar/days/<day>/delete")
@login_required
@admin_required
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
@login_required
@admin_required
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
@login_required
@admin_required
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
@login_required
@admin_required
def templates():
    return _templates_page()


@bp.post("/templates/<key>")
@login_required
@admin_required
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
