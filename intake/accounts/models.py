"""Staff users."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from intake.extensions import db
from intake.types import UTCDateTime, enum_column, utcnow


class Role(enum.Enum):
    DEPARTMENT = "department"  # 承办人: works a department's queue
    TOWNSHIP = "township"  # 乡镇/街道 staff
    DISPATCHER = "dispatcher"  # 派单员
    OPERATOR = "operator"  # 话务员
    SUPERVISOR = "supervisor"  # 十小办/质安办
    ADMIN = "admin"


ROLE_LABELS = {
    Role.DEPARTMENT: "部门承办人",
    Role.TOWNSHIP: "乡镇（街道）工作人员",
    Role.DISPATCHER: "派单员",
    Role.OPERATOR: "话务员",
    Role.SUPERVISOR: "督办人员",
    Role.ADMIN: "系统管理员",
}


class User(UserMixin, db.Model):
    """A member of staff; what they may see follows from role, department and township."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    township_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    phone: Mapped[str] = mapped_column(sa.String(20), default="", server_default="", comment="E.164, for duty SMS")
    email: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    on_duty: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true(), comment="gets the duty SMS and mail of their department or township"
    )
    active: Mapped[bool] = mapped_column(default=True)  # a deactivated user cannot log in
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department = relationship("Department")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


class LoginLockout(db.Model):
    """Wrong passwords for one username and the lock they lead to (intake.accounts.services.log_in).

    Kept per username typed, whether a user has it or not, so a name nobody has is locked the same
    way and the page never tells which names exist; in the database, so it holds while Redis is down.
    """

    username: Mapped[str] = mapped_column(
        sa.String(64), primary_key=True, comment="as typed (trimmed), whether or not a user has it"
    )
    failures: Mapped[int] = mapped_column(default=0, comment="wrong passwords since first_failed_at")
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="no login, not even with the right password, before this"
    )


class StaffSession(db.Model):
    """One signed-in browser of a member of staff; the session cookie carries the random token.

    Logging out deletes the row, so a copy of the cookie is worth nothing afterwards; changing or
    resetting a password, or deactivating the user, deletes all of the user's rows.
    """

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, comment="SHA-256 (hex) of the cookie's token")
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, comment="signed in; older than SESSION_MAX_HOURS ends it"
    )
    last_seen_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, comment="updated at most once a minute; idle past SESSION_IDLE_MINUTES ends it"
    )

    user = relationship("User")
