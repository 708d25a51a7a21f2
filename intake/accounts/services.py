"""Creating and authenticating staff users."""

import sqlalchemy as sa

from intake.accounts.models import Role, User
from intake.extensions import db


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).filter_by(username=username.strip()))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


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
