"""Factories for the rows tests need (factory_boy): `CaseFactory(tip=True)`, `UserFactory(supervisor=True)`.

Rows go into the app's session and are flushed (users are committed, as a login needs them);
departments are the seeded ones, looked up by county and kind.
"""

from datetime import timedelta

import factory
from werkzeug.security import generate_password_hash

from intake.accounts.models import Role, User
from intake.callbacks.models import Answer, Callback
from intake.cases.codes import check_digit
from intake.cases.models import Case, CaseEvent, CaseKind, CaseStatus, Channel, Clock
from intake.extensions import db
from intake.reference.models import Department
from intake.types import utcnow

YONGJIA, OUBEI = "330324", "330324009"  # 永嘉县, 瓯北街道


class _Factory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the session of the app context)
        sqlalchemy_session_persistence = "flush"


class DepartmentFactory(_Factory):
    """A seeded department (永嘉县市场监督管理局 by default); one is made only if none is seeded."""

    class Meta:
        model = Department
        sqlalchemy_get_or_create = ("county_code", "kind")

    county_code = YONGJIA
    kind = "market"
    name = factory.LazyAttribute(lambda d: f"{d.county_code} {d.kind}")


class UserFactory(_Factory):
    """A member of staff whose password is "pw-" + username; a department's by default."""

    class Meta:
        model = User
        sqlalchemy_get_or_create = ("username",)  # like ensure_user: the same name is the same user
        sqlalchemy_session_persistence = "commit"

    class Params:
        password = factory.LazyAttribute(lambda u: "pw-" + u.username)
        township = factory.Trait(role=Role.TOWNSHIP, department=None, township_code=OUBEI)
        dispatcher = factory.Trait(role=Role.DISPATCHER, department=None)
        operator = factory.Trait(role=Role.OPERATOR, department=None)
        supervisor = factory.Trait(role=Role.SUPERVISOR, department=None)
        admin = factory.Trait(role=Role.ADMIN, department=None)

    username = factory.Sequence(lambda n: f"staff{n}")
    display_name = factory.SelfAttribute("username")
    password_hash = factory.LazyAttribute(lambda u: generate_password_hash(u.password))
    role = Role.DEPARTMENT
    county_code = YONGJIA
    department = factory.SubFactory(DepartmentFactory)


class CaseFactory(_Factory):
    """A complaint filed on the web in 永嘉县, not yet routed; traits for kind and status."""

    class Meta:
        model = Case

    class Params:
        tip = factory.Trait(kind=CaseKind.TIP)
        inquiry = factory.Trait(kind=CaseKind.INQUIRY)
        triage = factory.Trait(status=CaseStatus.TRIAGE)
        dispatched = factory.Trait(
            status=CaseStatus.DISPATCHED,
            township_code=OUBEI,
            lead_department=factory.SubFactory(DepartmentFactory),
            routed_at=factory.LazyAttribute(lambda c: c.received_at + timedelta(minutes=1)),
        )
        replied = factory.Trait(dispatched=True, status=CaseStatus.REPLIED, result="mediated", reply_text="已调解。")

    tracking_no = factory.Sequence(lambda n: f"{n:012d}" + check_digit(f"{n:012d}"))  # real ones start with the date
    lookup_code_hash = "x"
    kind = CaseKind.COMPLAINT
    channel = Channel.WEB
    description = "测试"
    received_at = factory.LazyFunction(utcnow)
    county_code = YONGJIA


class CaseEventFactory(_Factory):
    """A line of a case's history; by the system unless an actor is given."""

    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    action = "note"
    at = factory.LazyFunction(utcnow)
    actor = None
    actor_label = factory.LazyAttribute(lambda e: e.actor.display_name if e.actor else "系统")


class ClockFactory(_Factory):
    """A sign-for clock of one day; `met` follows from stopped_at and due_at."""

    class Meta:
        model = Clock

    case = factory.SubFactory(CaseFactory)
    name = "sign"
    started_at = factory.LazyFunction(utcnow)
    due_at = factory.LazyAttribute(lambda c: c.started_at + timedelta(days=1))
    stopped_at = None
    met = factory.LazyAttribute(lambda c: None if c.stopped_at is None else c.stopped_at <= c.due_at)


class CallbackFactory(_Factory):
    """A satisfaction survey asked now, answered only if an answer is given."""

    class Meta:
        model = Callback

    class Params:
        answered = factory.Trait(answer=Answer.SATISFIED, answered_at=factory.LazyFunction(utcnow))

    case = factory.SubFactory(CaseFactory, replied=True)
    ask_at = factory.LazyFunction(utcnow)
    asked_at = factory.SelfAttribute("ask_at")
    answer_due_at = factory.LazyAttribute(lambda c: c.ask_at + timedelta(days=3))
