"""延期: a department asks for more time on its running deadline; a supervisor decides."""

import sqlalchemy as sa
import sqlalchemy.orm
from flask_babel import gettext as _

from intake.accounts.models import User
from intake.authz import case_condition, may
from intake.cases.clocks import extend_clock, find_policy, work_calendar
from intake.cases.labels import CLOCK_LABELS
from intake.cases.models import EXTENSION_STATES, Case, Clock, Extension
from intake.cases.models import ExtensionStatus as X
from intake.cases.workflow import record
from intake.extensions import db
from intake.filters import deadline_text
from intake.staff.services import ActionError
from intake.types import utcnow
from notify.services import tell_citizen, tell_staff

# The deadlines a department answers for and may ask to move; signing for a case is not one.
EXTENSIBLE = ("rework", "resolve", "decision")


def extensible_clock(case: Case) -> Clock | None:
    """The department's running deadline on this case, if it has one."""
    return next((c for name in EXTENSIBLE if (c := case.running_clock(name))), None)


def pending(case: Case) -> Extension | None:
    return next((x for x in case_extensions(case) if x.status is X.PENDING), None)


def case_extensions(case: Case) -> list[Extension]:
    return list(db.session.scalars(sa.select(Extension).where(Extension.case_id == case.id).order_by(Extension.id)))


def may_request(user: User, case: Case) -> bool:
    return may(user, "case.request_extension", case) and extensible_clock(case) is not None and pending(case) is None


def request_extension(case: Case, user: User, reason: str) -> Extension:
    """Ask, with a reason and before the deadline passes, for the time the policy allows."""
    clock = extensible_clock(case)
    if not may(user, "case.request_extension", case) or clock is None:
        raise ActionError(_("这件案件目前没有可以申请延期的办理期限。"))
    if not reason.strip():
        raise ActionError(_("申请延期须写明理由。"))
    if utcnow() >= clock.due_at:
        raise ActionError(_("办理期限已过，不能再申请延期，请尽快办结。"))
    if pending(case) is not None:
        raise ActionError(_("已有一份延期申请在等待审批。"))
    if any(x.status is X.APPROVED for x in clock.extensions):
        raise ActionError(_("这一办理期限已经延长过一次，不能再次延期。"))
    policy = find_policy(case, "extension")
    if policy is None:
        raise ActionError(_("按现行时限规定，这类案件不能延期。"))
    ext = Extension(
        case=case,
        clock=clock,
        requested_by_id=user.id,
        reason=reason.strip(),
        amount=policy.amount,
        unit=policy.unit.value,
        old_due_at=clock.due_at,
    )
    db.session.add(ext)
    proposed = work_calendar().due(clock.due_at, policy.amount, policy.unit.value)
    record(
        case,
        "extension_requested",
        user,
        reason=reason.strip(),
        public=False,
        data={"clock": clock.name, "proposed_due": proposed.isoformat()},
    )
    db.session.flush()
    return ext


def decide_extension(ext: Extension, user: User, approve: bool, note: str = "") -> Extension:
    """The supervisor's yes or no; a yes moves the deadline and the complainant hears the new date."""
    if not may(user, "extension.decide", ext.case):
        raise ActionError(_("只有督办人员可以审批延期申请。"))
    if not EXTENSION_STATES.allows(ext, "approve" if approve else "refuse"):
        raise ActionError(_("这份延期申请已经审批过了。"))
    if not approve and not note.strip():
        raise ActionError(_("不予延期须写明理由。"))
    case, clock = ext.case, ext.clock
    if approve and clock.stopped_at is not None:  # refused before anything is written
        raise ActionError(_("该办理期限已经结束，无需延期。"))
    ext.decided_by_id, ext.decided_at, ext.decision_note = user.id, utcnow(), note.strip()
    label = str(CLOCK_LABELS.get(clock.name, clock.name))
    if approve and clock.stopped_at is None:
        EXTENSION_STATES.move(ext, "approve")
        ext.new_due_at = extend_clock(clock, ext.amount, ext.unit)
        due = deadline_text(ext.new_due_at)
        event = record(
            case,
            "extension_approved",
            user,
            reason=_("%(clock)s延长至%(due)s", clock=label, due=due),
            data={"clock": clock.name, "old_due": ext.old_due_at.isoformat(), "new_due": ext.new_due_at.isoformat()},
        )
        tell_citizen(case, "extension_approved", event, due=due)
        tell_staff(case, "extension_granted", event, due=due)
    else:
        EXTENSION_STATES.move(ext, "refuse")
        event = record(case, "extension_refused", user, reason=note.strip(), public=False, data={"clock": clock.name})
        tell_staff(case, "extension_refused", event, due=deadline_text(clock.due_at))
    db.session.flush()
    return ext


def _pending_query(user: User) -> sa.Select:
    return (
        sa.select(Extension).join(Case).where(Extension.status == X.PENDING, case_condition(user, "extension.decide"))
    )


def pending_extensions(user: User, limit: int = 200) -> list[Extension]:
    """Requests waiting for this supervisor, oldest first."""
    query = (
        _pending_query(user)
        .order_by(Extension.requested_at)
        .limit(limit)
        .options(sa.orm.contains_eager(Extension.case).joinedload(Case.lead_department))
    )
    return list(db.session.scalars(query))


def count_pending(user: User) -> int:
    return db.session.scalar(_pending_query(user).with_only_columns(sa.func.count(Extension.id)))
