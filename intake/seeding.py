"""`flask seed`: the reference tables and the message templates, in one transaction."""
from intake.extensions import db
from intake.reference.seed import seed_reference
from notify.services import seed_templates


def seed_all() -> dict[str, int]:
    """Load every reference file and notify/templates.csv (new rows only; edits are kept)."""
    added = seed_reference()
    added["message_template"] = seed_templates()
    db.session.flush()
    return added
