"""Every look at personal data is logged. Who may look is intake/authz.py's table."""

from intake.accounts.models import User
from intake.cases.models import Case, PersonalDataAccess
from intake.extensions import db


def log_identity_view(user: User, case: Case, purpose: str) -> None:
    log_identity_views(user, [case], purpose)


def log_identity_views(user: User, cases, purpose: str) -> None:
    """A look at each of these cases' personal data, in one flush (a page that lists them)."""
    db.session.add_all([PersonalDataAccess(user_id=user.id, case_id=c.id, purpose=purpose) for c in cases])
    db.session.flush()


def log_recipient_view(user: User, message) -> None:
    """An administrator unmasked a message's recipient (a citizen's or a member of staff's number)."""
    db.session.add(
        PersonalDataAccess(user_id=user.id, case_id=message.case_id, message_id=message.id, purpose="message_recipient")
    )
    db.session.flush()
