"""Need to know: which cases a user may see, and whose identity; every look at it is logged."""

import sqlalchemy as sa

from intake.accounts.models import Role, User
from intake.accounts.roles import PLATFORM_ROLES
from intake.cases.kinds import KINDS, Identity
from intake.cases.models import Case, PersonalDataAccess, case_co_handler
from intake.cases.reasons import all_reasons, candidates, public_reasons
from intake.extensions import db


def visible_cases(user: User) -> sa.Select:
    """The cases this user may see: their department's or township's, or their county's."""
    query = sa.select(Case)
    if user.role is Role.DEPARTMENT and user.department_id is None:
        return query.where(sa.false())  # a department's user without one sees nothing, never the unrouted
    if user.role is Role.TOWNSHIP and user.township_code is None:
        return query.where(sa.false())
    if user.role is Role.DEPARTMENT:
        co = sa.select(case_co_handler.c.case_id).where(case_co_handler.c.department_id == user.department_id)
        return query.where(sa.or_(Case.lead_department_id == user.department_id, Case.id.in_(co)))
    if user.role is Role.TOWNSHIP:
        return query.where(Case.township_code == user.township_code)
    if user.county_code:
        return query.where(sa.or_(Case.county_code == user.county_code, Case.county_code.is_(None)))
    return query


def visible_business_cases(user: User, business) -> list[Case]:
    """The business's cases that this user may see, newest first."""
    query = visible_cases(user).where(Case.business_id == business.id)
    return list(db.session.scalars(query.order_by(Case.received_at.desc())))


def get_visible_case(user: User, case_id: int) -> Case | None:
    return db.session.scalar(visible_cases(user).where(Case.id == case_id))


def may_see_identity(user: User, case: Case) -> bool:
    """Need to know: a hidden tipper is seen by nobody; a complainant by the handling staff."""
    if case.identity_hidden:
        return False
    if user.role is Role.DEPARTMENT:
        return user.department_id is not None and case.lead_department_id == user.department_id
    return user.role in PLATFORM_ROLES


def routing_reasons(user: User, case: Case) -> list[str]:
    """The router's reasons this user may read: what the caller's phone told only with the identity."""
    return all_reasons(case.routing) if may_see_identity(user, case) else public_reasons(case.routing)


def routing_candidates(user: User, case: Case) -> list[str]:
    """The router's candidate townships for this user: narrowed by the phone only with the identity."""
    return candidates(case.routing, may_see_identity(user, case))


def identity_visible(user: User) -> sa.ColumnElement[bool]:
    """may_see_identity as a condition on Case, for searching by phone without leaking a tipper's."""
    confidential = [k for k, spec in KINDS.items() if spec.identity is Identity.MAY_BE_ANONYMOUS]
    shown = sa.and_(Case.anonymous.is_(False), sa.or_(Case.kind.not_in(confidential), Case.disclose_identity.is_(True)))
    if user.role is Role.DEPARTMENT:
        return sa.and_(shown, Case.lead_department_id == user.department_id)
    return shown if user.role in PLATFORM_ROLES else sa.false()


def log_identity_view(user: User, case: Case, purpose: str) -> None:
    db.session.add(PersonalDataAccess(user_id=user.id, case_id=case.id, purpose=purpose))
    db.session.flush()
