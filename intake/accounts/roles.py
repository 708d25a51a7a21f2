"""Who a role is: the predicates every area asks."""

from intake.accounts.models import Role, User

PLATFORM_ROLES = {Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR}
DISPATCH_ROLES = {Role.DISPATCHER, Role.ADMIN}  # route triage cases by hand
CONSOLE_ROLES = {Role.OPERATOR, Role.ADMIN}  # the hotline console


def is_supervisor(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN)
