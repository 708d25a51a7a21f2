"""Creating and authenticating staff users."""

import functools
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from intake.accounts.models import LoginLockout, Role, StaffSession, User
from intake.extensions import db
from intake.phones import can_receive_sms, normalise_phone
from intake.reference.models import Department, Division, DivisionLevel
from intake.types import utcnow
from notify.services import tell_user

log = logging.getLogger(__name__)


@functools.cache
def _no_such_user_hash() -> str:
    return generate_password_hash("no such user")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password; a password hash is checked either way, so
    a name nobody has takes as long as a wrong password."""
    user = db.session.scalar(sa.select(User).filter_by(username=username.strip()))
    matches = check_password_hash(user.password_hash if user is not None else _no_such_user_hash(), password)
    if user is None or not user.active or not matches:
        return None
    return user


@dataclass
class LoginResult:
    user: User | None  # logged in, or None
    locked_minutes: int = 0  # > 0: too many wrong passwords; the username is locked about this long


def log_in(username: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check the password unless the username is locked; LOGIN_MAX_FAILURES wrong ones within
    LOGIN_FAILURE_WINDOW minutes lock it for LOGIN_LOCK_MINUTES, known name or not. Success resets."""
    now = now or utcnow()
    name = (username or "").strip()[:64]
    row = db.session.get(LoginLockout, name, with_for_update=True)
    user = authenticate(name, password)  # even when locked: a locked name answers as fast as any other
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return LoginResult(None, _minutes_until(row.locked_until, now))
    if user is not None:
        if row is not None:
            db.session.delete(row)
        record_login(user)
        return LoginResult(user)
    return _count_failure(name, row, now)


def _count_failure(name: str, row: LoginLockout | None, now: datetime) -> LoginResult:
    cfg = current_app.config
    if row is None:
        _forget_old_failures(now)
        row = LoginLockout(username=name, failures=0, first_failed_at=now)
        db.session.add(row)
    elif row.locked_until is not None or row.first_failed_at + timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW"]) <= now:
        row.failures, row.first_failed_at, row.locked_until = 0, now, None  # a new window
    row.failures += 1
    locked = row.failures >= cfg["LOGIN_MAX_FAILURES"]
    if locked:
        row.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    try:
        db.session.flush()
    except IntegrityError:  # the first wrong password for this name in a request running alongside
        db.session.rollback()
        return LoginResult(None)
    if not locked:
        return LoginResult(None)
    log.warning("login for %r locked until %s after %d wrong passwords", name, row.locked_until, row.failures)
    _tell_locked(name, row)
    return LoginResult(None, _minutes_until(row.locked_until, now))


def _forget_old_failures(now: datetime) -> None:
    """Rows that lock nothing and count towards nothing any more (their window and lock are over):
    without this, every name ever mistyped, or sprayed by an attacker, would stay a row. Done
    when a name gets its first row, so the table holds at most the names tried within the window."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW"])
    db.session.execute(
        sa.delete(LoginLockout).where(
            LoginLockout.first_failed_at <= now - window,
            sa.or_(LoginLockout.locked_until.is_(None), LoginLockout.locked_until <= now),
        )
    )


def _tell_locked(name: str, row: LoginLockout) -> None:
    """The user whose name was locked hears of it on their phone and by mail (if they have them)."""
    user = db.session.scalar(sa.select(User).filter_by(username=name))
    if user is None:
        return
    tell_user(
        user,
        "login_locked",
        f"login-locked:{user.id}:{row.locked_until.isoformat()}",
        username=name,
        failures=row.failures,
        minutes=current_app.config["LOGIN_LOCK_MINUTES"],
    )


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, -(-int((moment - now).total_seconds()) // 60))


def unlock(user: User) -> bool:
    """Lift the lock on the user's name (and forget their wrong passwords); True if there was one."""
    row = db.session.get(LoginLockout, user.username)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    log.info("login lock on %r lifted", user.username)
    return row.locked_until is not None


def locked_usernames(now: datetime | None = None) -> set[str]:
    """The usernames locked now (for the administrators' list)."""
    now = now or utcnow()
    return set(db.session.scalars(sa.select(LoginLockout.username).where(LoginLockout.locked_until > now)))


def record_login(user: User) -> None:
    """When they last logged in, for the administrators' list (the request commits it)."""
    user.last_login_at = utcnow()
    db.session.flush()


# --- staff sessions: a row per signed-in browser (see StaffSession) -----------------------------

SESSION_TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


def _session_key(token: str) -> str:
    """What the table stores: a stolen copy of the table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def _session_cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """A session seen last before the first, or started before the second, opens nothing: idle for
    SESSION_IDLE_MINUTES, or older than SESSION_MAX_HOURS however busy (a cookie stolen from a
    browser left signed in works for a working day at the most)."""
    cfg = current_app.config
    return now - timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), now - timedelta(hours=cfg["SESSION_MAX_HOURS"])


def start_session(user: User) -> str:
    """A new session for the user; returns the token for the cookie. Rows that open nothing go too."""
    _delete_dead_sessions()
    token = secrets.token_urlsafe(32)
    db.session.add(StaffSession(id=_session_key(token), user_id=user.id))
    db.session.flush()
    return token


def session_user(user_id: str, token: str | None, now: datetime | None = None):
    """The user of a live session: (user, session) if the token's row exists, is the user's, is
    neither idle too long nor too old (_session_cutoffs) and the user is active; else (None, None)."""
    if not token or not user_id.isdigit():
        return None, None
    record = db.session.get(StaffSession, _session_key(token))
    seen_after, started_after = _session_cutoffs(now or utcnow())
    if (
        record is None
        or record.user_id != int(user_id)
        or record.last_seen_at < seen_after
        or record.created_at < started_after
    ):
        return None, None
    user = record.user
    return (user, record) if user is not None and user.is_active else (None, None)


def session_needs_touch(record: StaffSession, now: datetime | None = None) -> bool:
    return (now or utcnow()) - record.last_seen_at >= SESSION_TOUCH_EVERY


def touch_session(session_id: str, now: datetime | None = None) -> None:
    """Mark the session as seen now (its caller commits)."""
    db.session.execute(
        sa.update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=now or utcnow())
    )


def end_session(token: str | None) -> None:
    """Logout: this browser's session row goes, so its cookie opens nothing again."""
    if token:
        db.session.execute(sa.delete(StaffSession).where(StaffSession.id == _session_key(token)))


def end_sessions(user: User, keep_token: str | None = None) -> int:
    """Every session of the user ends (but the one of keep_token, if given); returns how many."""
    query = sa.delete(StaffSession).where(StaffSession.user_id == user.id)
    if keep_token:
        query = query.where(StaffSession.id != _session_key(keep_token))
    return db.session.execute(query).rowcount


def _delete_dead_sessions() -> None:
    """Anyone's rows that can open nothing any more (a login is a good moment to tidy up)."""
    seen_after, started_after = _session_cutoffs(utcnow())
    db.session.execute(
        sa.delete(StaffSession).where(
            sa.or_(StaffSession.last_seen_at < seen_after, StaffSession.created_at < started_after)
        )
    )


def change_own_password(user: User, current: str, new: str, keep_token: str | None) -> None:
    """A user changes their own password: the current one first; their other browsers are signed out."""
    if not user.check_password(current or ""):
        raise UserError("current_password", _("当前密码不正确。"))
    check_password(new)
    user.set_password(new)
    end_sessions(user, keep_token=keep_token)
    db.session.flush()


def ensure_user(
    username: str,
    password: str,
    display_name: str,
    role: Role,
    county_code=None,
    department_id=None,
    township_code=None,
) -> User:
    """Create the user if missing (idempotent); an existing user keeps their password."""
    user = db.session.scalar(sa.select(User).filter_by(username=username))
    if user is None:
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            county_code=county_code,
            department_id=department_id,
            township_code=township_code,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    return user


# --- administering staff users: one rule for the page and `flask create-user` ---------------------

ROLES_WITH_DEPARTMENT = {Role.DEPARTMENT}
ROLES_WITH_TOWNSHIP = {Role.TOWNSHIP}
PASSWORD_MIN = 8
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """A staff user that may not be saved: which field, and why (in Chinese)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class StaffFields:
    """What an administrator sets on a staff user (the page's form and the CLI's options)."""

    display_name: str
    role: Role
    county_code: str | None = None
    department_id: int | None = None
    township_code: str | None = None
    phone: str = ""
    email: str = ""
    on_duty: bool = True


def check_staff(fields: StaffFields, region: str = "CN") -> StaffFields:
    """The fields as they will be stored, or UserError: a department's user needs a department, a
    township's a township (the county follows from it); a phone is a mobile in E.164."""
    name = (fields.display_name or "").strip()
    if not name:
        raise UserError("display_name", _("请填写姓名。"))
    if len(name) > 64:
        raise UserError("display_name", _("姓名不能超过 64 个字。"))
    county, department_id, township = fields.county_code or None, None, None
    if county is not None:
        division = db.session.get(Division, county)
        if division is None or division.level is not DivisionLevel.COUNTY:
            raise UserError("county_code", _("没有这个县（市、区）。"))
    if fields.role in ROLES_WITH_DEPARTMENT:
        department = db.session.get(Department, fields.department_id) if fields.department_id else None
        if department is None:
            raise UserError(
                "department_id", _("部门承办人必须选择所属部门，否则看不到本部门的案件，也收不到派单通知。")
            )
        if county is not None and county != department.county_code:
            raise UserError("department_id", _("所选部门不在所选的县（市、区）。"))
        department_id, county = department.id, department.county_code
    if fields.role in ROLES_WITH_TOWNSHIP:
        division = db.session.get(Division, fields.township_code) if fields.township_code else None
        if division is None or division.level is not DivisionLevel.TOWNSHIP:
            raise UserError("township_code", _("乡镇（街道）工作人员必须选择所属乡镇（街道）。"))
        if county is not None and county != division.parent_code:
            raise UserError("township_code", _("所选乡镇（街道）不在所选的县（市、区）。"))
        township, county = division.code, division.parent_code
    phone = (fields.phone or "").strip()
    if phone:
        e164 = normalise_phone(phone, region)
        if e164 is None or not can_receive_sms(e164, region):
            raise UserError("phone", _("请填写有效的手机号码（用于接收值班短信），例如 13812345678。"))
        phone = e164
    email = (fields.email or "").strip()
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        raise UserError("email", _("请填写有效的电子邮箱，例如 zhangsan@example.gov.cn。"))
    return StaffFields(name, fields.role, county, department_id, township, phone, email, bool(fields.on_duty))


def check_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise UserError("password", _("密码至少 %(n)d 位。", n=PASSWORD_MIN))


def check_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise UserError("username", _("用户名为 2 到 64 位字母、数字、点、横线或下划线，以字母或数字开头。"))
    if db.session.scalar(sa.select(User.id).filter_by(username=username)) is not None:
        raise UserError("username", _("用户名 %(name)s 已被使用。", name=username))
    return username


def _apply(user: User, fields: StaffFields) -> None:
    for name in ("display_name", "role", "county_code", "department_id", "township_code", "phone", "email", "on_duty"):
        setattr(user, name, getattr(fields, name))


def create_user(username: str, password: str, fields: StaffFields, region: str = "CN") -> User:
    """A new staff user, checked by the one rule; UserError when it may not be saved."""
    username = check_username(username)
    fields = check_staff(fields, region)
    check_password(password)
    user = User(username=username)
    _apply(user, fields)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, fields: StaffFields, region: str = "CN") -> User:
    _apply(user, check_staff(fields, region))
    db.session.flush()
    return user


def reset_password(user: User, password: str) -> bool:
    """An administrator sets a new password: every session the user had ends with the old one, and a
    lock from too many wrong passwords is lifted (True if there was one)."""
    check_password(password)
    user.set_password(password)
    end_sessions(user)
    unlocked = unlock(user)
    db.session.flush()
    return unlocked


def set_active(user: User, active: bool) -> None:
    """Deactivate (cannot log in, gets no duty messages, signed out everywhere; their cases and events
    stay) or reactivate."""
    user.active = active
    if not active:
        end_sessions(user)
    db.session.flush()


def staff_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.active.desc(), User.role, User.username)))


def department_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Department.id, Division.name, Department.name)
        .join(Division, Division.code == Department.county_code)
        .order_by(Department.county_code, Department.id)
    ).all()
    return [(i, f"{county} · {name}") for i, county, name in rows]


def township_choices() -> list[tuple[str, str]]:
    county = sa.orm.aliased(Division)
    rows = db.session.execute(
        sa.select(Division.code, county.name, Division.name)
        .join(county, county.code == Division.parent_code)
        .where(Division.level == DivisionLevel.TOWNSHIP)
        .order_by(Division.code)
    ).all()
    return [(code, f"{c} · {name}") for code, c, name in rows]


def county_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(Division.code, Division.name).where(Division.level == DivisionLevel.COUNTY).order_by(Division.code)
    ).all()
    return [(code, name) for code, name in rows]
