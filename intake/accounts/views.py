"""Staff login and logout."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from intake.accounts.forms import LoginForm
from intake.accounts.models import User
from intake.accounts.services import log_in
from intake.extensions import db, limiter, login_manager
from intake.navigation import local_or
from intake.throttles import by_address, by_username, setting

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None  # deactivated: the session ends


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_LOGIN_IP"), key_func=by_address, methods=["POST"])
@limiter.limit(setting("RATELIMIT_LOGIN_USER"), key_func=by_username, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = log_in(form.username.data, form.password.data)
        if result.user is not None and login_user(result.user):
            target = request.args.get("next", "")
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
    logout_user()
    flash(_("已退出登录。"), "success")
    return redirect(url_for("accounts.login"))
