"""`flask seed`: the reference tables and the message templates, in one transaction."""

import sqlalchemy as sa

from intake.cases.kinds import KINDS
from intake.cases.labels import CLOCK_LABELS
from intake.cases.models import Clock
from intake.extensions import db
from intake.reference.models import TimeLimitPolicy
from intake.reference.seed import seed_reference, seed_sms_keywords
from notify.services import seed_templates


def seed_all() -> dict[str, int]:
    """Load every reference file and notify/templates.csv (new rows only; edits are kept)."""
    added = seed_reference()
    added["sms_keyword"] = seed_sms_keywords({k.value: spec.sms_words for k, spec in KINDS.items() if spec.sms_words})
    retire_unused_policies()
    added["message_template"] = seed_templates()
    db.session.flush()
    return added


def retire_unused_policies() -> int:
    """Delete the policy rows for clocks no case runs any more (tell_tipper: see intake.cases.kinds)."""
    return db.session.execute(
        sa.delete(TimeLimitPolicy).where(
            TimeLimitPolicy.clock.not_in(list(CLOCK_LABELS)), ~sa.exists().where(Clock.policy_id == TimeLimitPolicy.id)
        )
    ).rowcount
