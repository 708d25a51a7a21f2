"""Every model, imported in one place for Alembic and the app factory."""

from intake.accounts.models import LoginLockout, Role, StaffSession, User  # noqa: F401
from intake.businesses.models import Business  # noqa: F401
from intake.callbacks.models import Answer, Callback, Review  # noqa: F401
from intake.cases.models import (  # noqa: F401
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Channel,
    Clock,
    Extension,
    ExtensionStatus,
    PersonalDataAccess,
)
from intake.hotline.models import Call  # noqa: F401
from intake.open311.models import ApiKey, Open311Request  # noqa: F401
from intake.reference.models import (  # noqa: F401
    CalendarDay,
    Department,
    Division,
    DivisionLevel,
    Industry,
    IndustryTerm,
    RoutingRule,
    TimeLimitPolicy,
    TimeUnit,
)
from intake.sms.models import InboundSms  # noqa: F401
from intake.sweeplog import SweepRun  # noqa: F401
from notify.models import Message, MessageStatus, MessageTemplate, SmsOptOut  # noqa: F401,E402
