"""Every model, imported in one place for Alembic and the app factory."""
from intake.accounts.models import Role, User  # noqa: F401
from intake.businesses.models import Business  # noqa: F401
from intake.cases.models import (  # noqa: F401
    Case, CaseEvent, CaseKind, CaseStatus, Channel, Clock, Extension, ExtensionStatus,
    PersonalDataAccess,
)
from intake.reference.models import (  # noqa: F401
    CalendarDay, Department, Division, DivisionLevel, Industry, IndustryTerm, RoutingRule,
    TimeLimitPolicy, TimeUnit,
)
from notify.models import Message, MessageStatus  # noqa: F401,E402
