"""Staff login, logout and one's own password; which session a request belongs to.

A staff session is a row of `staff_session` (intake/accounts/models.py) whose random token the
signed cookie carries next to Flask-Login's user id. Flask's own session lives in the cookie
alone, so before this a copied cookie kept working after logout; now logout deletes the row, a
password change or reset deletes all of the user's rows, and a row idle for SESSION_IDLE_MINUTES,
or signed in for longer than SESSION_MAX_HOURS however busy, opens nothing. Rows in the database,
not Redis: a Redis outage signs nobody out, and one user's logout ends that browser only, not every
device as a per-user version counter would.
"""

import logging

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from intake.accounts.forms import LoginForm, PasswordChangeForm
from intake.accounts.services import (
    UserError,
    change_own_password,
    end_session,
    log_in,
    session_needs_touch,
    session_user,
    start_session,
    touch_session,
)
from intake.extensions import db, limiter, login_manager
from intake.navigation import local_or
from intake.throttles import by_address, by_username, setting
from intake.transaction import transaction

log = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__)

SESSION_TOKEN = "staff_session"  # the key in Flask's (signed) session cookie


@login_manager.user_loader
def load_user(user_id: str):
    """The user of this request's session row, or None: logged out, idle or signed in too long,
    or deactivated."""
    user, record = session_user(user_id, session.get(SESSION_TOKEN))
    if user is None:
        session.pop(SESSION_TOKEN, None)
        return None
    if session_needs_touch(record):
        g.staff_session_touch = record.id
    return user


@bp.after_app_request
def _touch_staff_session(response):
    """Write last_seen_at (at most once a minute) after the request's own commit or rollback.

    Blueprints are registered before intake.transaction's hook and after_request hooks run last
    registered first, so the request's own work is settled when this runs; what a GET left in
    the session is dropped, and only the touch is committed.
    """
    session_id = g.pop("staff_session_touch", None)
    if session_id is not None:
        db.session.rollback()
        try:
            with transaction():
                touch_session(session_id)
        except SQLAlchemyError:  # the request's own work is committed: a lost touch must not undo its answer
            log.warning("could not record staff session %s as seen", session_id, exc_info=True)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_LOGIN_IP"), key_func=by_address, methods=["POST"])
@limiter.limit(setting("RATELIMIT_LOGIN_USER"), key_func=by_username, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = log_in(form.username.data, form.password.data)
        user = result.user
        if user is not None and user.is_active:
            target = request.args.get("next", "")
            end_session(session.get(SESSION_TOKEN))  # whoever was logged in here before
            session.clear()  # a new session at login: nothing set before it (session fixation) carries over
            login_user(user)
            session[SESSION_TOKEN] = start_session(user)
            return redirect(local_or(target, url_for("staff.queue")))
        if result.locked_minutes:
            form.password.errors.append(
                _("登录失败次数过多，账号已暂时锁定，请 %(n)d 分钟后再试。", n=result.locked_minutes)
            )
        else:
            form.password.errors.append(_("用户名或密码不正确。"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    end_session(session.get(SESSION_TOKEN))
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """One's own password; every other browser signed in as the user is signed out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_own_password(
                current_user, form.current_password.data, form.new_password.data, session.get(SESSION_TOKEN)
            )
        except UserError as error:
            field = form.current_password if error.field == "current_password" else form.new_password
            field.errors.append(str(error))
        else:
            flash(_("密码已修改；在其他设备上的登录已全部退出。"), "success")
            return redirect(url_for("staff.queue"))
    status = 400 if form.errors else 200
    return render_template("accounts/password.html", form=form), status
