"""Who may do what: one table of role × action, and the scope each grant reaches.

Every route is an action (ROUTES), checked for the role before the view runs; the view checks the
target's scope with `case_for` / `target_or_404`; every template that hides a button asks
`may(ACTION, target)`, and every service that acts on a case checks `may()` again before it writes. Nothing else decides access: a role test anywhere else is a
bug. `tests/intake/test_authorization.py` walks the route map with every role against cases of
another department, township and county, and fails for a route with no entry here.

The scope of a grant says which targets it reaches:

- ``ANY``: no target, or every target (a page whose list is already scoped);
- ``COUNTY``: targets in the user's county. A user with no county is platform-wide and reaches
  every county and the cases the router could not place yet; a county's user never sees those;
- ``TOWNSHIP``: targets in the user's township;
- ``DEPARTMENT``: cases the user's department leads or co-handles (a business: one that has such a case);
- ``LEAD`` / ``CO_HANDLER``: cases the user's department leads / co-handles and does not lead;
- ``OWN``: the user's own (a call they took).

A user whose scope needs a department, township or county they do not have reaches nothing.
"""

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from intake.accounts.models import Role, User
from intake.cases.kinds import KINDS, Identity
from intake.cases.models import Case, case_co_handler
from intake.cases.reasons import all_reasons, candidates, public_reasons
from intake.extensions import db, login_manager


class Scope(enum.Enum):
    ANY = "any"
    COUNTY = "county"
    TOWNSHIP = "township"
    DEPARTMENT = "department"
    LEAD = "lead"
    CO_HANDLER = "co_handler"
    OWN = "own"


class Target(enum.Enum):
    """What an action is done to, so the scope knows which fields to read."""

    NONE = "none"
    CASE = "case"
    BUSINESS = "business"
    CALL = "call"


@dataclass(frozen=True)
class Action:
    label: str  # for the administrators' page and the test's report
    grants: dict[Role, Scope]
    target: Target = Target.NONE
    needs_identity: bool = False  # also needs the case's identity to be disclosable (not a hidden tipper)


DEPT, TOWN, DISP, OPER, SUPV, ADMIN = (
    Role.DEPARTMENT,
    Role.TOWNSHIP,
    Role.DISPATCHER,
    Role.OPERATOR,
    Role.SUPERVISOR,
    Role.ADMIN,
)
EVERY_ROLE = tuple(Role)
ANY, COUNTY, TOWNSHIP, DEPARTMENT, LEAD, CO_HANDLER, OWN = (
    Scope.ANY,
    Scope.COUNTY,
    Scope.TOWNSHIP,
    Scope.DEPARTMENT,
    Scope.LEAD,
    Scope.CO_HANDLER,
    Scope.OWN,
)
CASE, BUSINESS, CALL = Target.CASE, Target.BUSINESS, Target.CALL

# The table. Workflow (which move a case's state allows) is intake/cases/workflow.py's; this says who.
ACTIONS: dict[str, Action] = {
    # every member of staff has a queue; what is in it is case.view's
    "queue.view": Action("待办队列", {r: ANY for r in EVERY_ROLE}),
    "session.end": Action("退出登录", {r: ANY for r in EVERY_ROLE}),
    "account.password": Action("修改本人密码", {r: ANY for r in EVERY_ROLE}),
    "case.view": Action(
        "查看案件", {DEPT: DEPARTMENT, TOWN: TOWNSHIP, DISP: COUNTY, OPER: COUNTY, SUPV: COUNTY, ADMIN: COUNTY}, CASE
    ),
    # the complainant's or a consenting tipper's name and phone: the lead department and the platform
    "case.identity": Action(
        "查看投诉举报人身份",
        {DEPT: LEAD, DISP: COUNTY, OPER: COUNTY, SUPV: COUNTY, ADMIN: COUNTY},
        CASE,
        needs_identity=True,
    ),
    "case.sign": Action("签收", {DEPT: LEAD}, CASE),
    "case.return": Action("退单", {DEPT: LEAD}, CASE),
    "case.accept": Action("决定受理", {DEPT: LEAD}, CASE),
    "case.reply": Action("办结答复", {DEPT: LEAD}, CASE),
    "case.request_extension": Action("申请延期", {DEPT: LEAD}, CASE),
    "case.site_visit": Action("登记现场核查", {TOWN: TOWNSHIP}, CASE),
    "case.co_opinion": Action("提出协办意见", {DEPT: CO_HANDLER}, CASE),
    "case.merge": Action("合并重复件", {DEPT: LEAD, DISP: COUNTY, ADMIN: COUNTY}, CASE),
    "case.dispatch": Action("人工分派、转出", {DISP: COUNTY, ADMIN: COUNTY}, CASE),
    "case.reopen": Action("发回重办", {SUPV: COUNTY, ADMIN: COUNTY}, CASE),
    "case.phone_callback": Action("登记电话回访", {DISP: COUNTY, OPER: COUNTY, SUPV: COUNTY, ADMIN: COUNTY}, CASE),
    "extension.decide": Action("审批延期", {SUPV: COUNTY, ADMIN: COUNTY}, CASE),
    "callback.review": Action("处理不满意件", {SUPV: COUNTY, ADMIN: COUNTY}, CASE),
    "triage.view": Action("人工分拨队列", {DISP: ANY, ADMIN: ANY}),
    "overdue.view": Action("督办页面", {SUPV: ANY, ADMIN: ANY}),
    "callbacks.view": Action("不满意件列表", {SUPV: ANY, ADMIN: ANY}),
    "figures.view": Action("统计报表及下载", {SUPV: ANY, ADMIN: ANY}),
    "businesses.view": Action("重复被投诉经营者", {DISP: ANY, SUPV: ANY, ADMIN: ANY}),
    "business.view": Action(
        "经营者档案",
        {DEPT: DEPARTMENT, TOWN: TOWNSHIP, DISP: COUNTY, OPER: COUNTY, SUPV: COUNTY, ADMIN: COUNTY},
        BUSINESS,
    ),
    "places.search": Action("地名检索", {DISP: ANY, OPER: ANY, ADMIN: ANY}),
    "hotline.console": Action("话务台", {OPER: ANY, ADMIN: ANY}),
    "hotline.take": Action("接听来电", {OPER: ANY}),
    "hotline.handle": Action("登记或结束来电", {OPER: OWN}, CALL),
    "admin": Action("系统管理", {ADMIN: ANY}),
    # a number in the message log, unmasked; each look is logged
    "message.recipient": Action("查看短信号码", {ADMIN: ANY}),
}

PUBLIC = "public"  # anyone: the citizen's pages and the login page
MACHINE = "machine"  # another system, which proves itself (the gateway's signature, the phone system's token)

# Every route and the action it is (the route map test fails for a route missing here, and so does
# create_app). A route's target (the case, business or call in its URL) is checked by the view with
# case_for / target_or_404 against the same action.
ROUTES: dict[str, str] = {
    "static": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": "session.end",
    "accounts.change_password": "account.password",
    "admin.add_alias": "admin",
    "admin.add_calendar_day": "admin",
    "admin.add_policy": "admin",
    "admin.add_sms_word": "admin",
    "admin.calendar": "admin",
    "admin.unreadable_sms": "admin",
    "admin.dashboard": "admin",
    "admin.delete_calendar_day": "admin",
    "admin.edit_template": "admin",
    "admin.edit_user": "admin",
    "admin.import_calendar": "admin",
    "admin.messages": "admin",
    "admin.reveal_recipient": "message.recipient",
    "admin.new_user": "admin",
    "admin.issue_open311_key": "admin",
    "admin.open311_keys": "admin",
    "admin.revoke_open311_key": "admin",
    "admin.policies": "admin",
    "admin.reference_county": "admin",
    "admin.reference_index": "admin",
    "admin.reference_sms_words": "admin",
    "admin.reference_terms": "admin",
    "admin.remove_alias": "admin",
    "admin.remove_sms_word": "admin",
    "admin.remove_term": "admin",
    "admin.rename_department": "admin",
    "admin.reset_password": "admin",
    "admin.reset_rule": "admin",
    "admin.revise_policy": "admin",
    "admin.reweigh_term": "admin",
    "admin.set_rule": "admin",
    "admin.set_term": "admin",
    "admin.set_user_active": "admin",
    "admin.templates": "admin",
    "admin.users": "admin",
    "api.create_case": PUBLIC,
    "api.docs": PUBLIC,  # the OpenAPI document as a page
    "api.get_case": PUBLIC,
    "api.look_up_case": PUBLIC,
    "api.openapi": PUBLIC,
    "businesses.business": "business.view",
    "businesses.businesses": "businesses.view",
    "callbacks.callback_reviews": "callbacks.view",
    "callbacks.review_callback": "callback.review",
    "dispatch.merge": "case.merge",
    "dispatch.route": "case.dispatch",
    "dispatch.transfer": "case.dispatch",
    "dispatch.triage": "triage.view",
    "health.healthz": MACHINE,  # the load balancer and Prometheus: no personal data
    "health.metrics": MACHINE,  # METRICS_TOKEN or METRICS_NETWORKS (intake/health/views.py)
    "health.readyz": MACHINE,
    "hotline.announce": MACHINE,
    "hotline.console": "hotline.console",
    "hotline.end": "hotline.handle",
    "hotline.feed": "hotline.console",
    "hotline.file": "hotline.handle",
    "hotline.take": "hotline.take",
    "open311.create_request": PUBLIC,  # the API key is checked by the view (intake/open311)
    "open311.discovery": PUBLIC,
    "open311.request_detail": PUBLIC,
    "open311.request_list": PUBLIC,
    "open311.service_definition": PUBLIC,
    "open311.service_list": PUBLIC,
    "open311.token": PUBLIC,
    "places.search": "places.search",
    "public.file_case": PUBLIC,
    "public.lookup": PUBLIC,
    "public.receipt": PUBLIC,
    "reports.figures": "figures.view",
    "reports.figures_csv": "figures.view",
    "reports.figures_xlsx": "figures.view",
    "sms.inbound": MACHINE,
    "staff.accept": "case.accept",
    "staff.case_detail": "case.view",
    "staff.co_opinion": "case.co_opinion",
    "staff.decide_extension": "extension.decide",
    "staff.overdue": "overdue.view",
    "staff.phone_callback": "case.phone_callback",
    "staff.queue": "queue.view",
    "staff.reopen": "case.reopen",
    "staff.reply": "case.reply",
    "staff.request_extension": "case.request_extension",
    "staff.return_": "case.return",
    "staff.sign": "case.sign",
    "staff.site_visit": "case.site_visit",
}


# --- the scope rules, once for an object and once as SQL on Case ------------------------------------


def _reaches_case(user: User, scope: Scope, case) -> bool:
    if scope is ANY:
        return True
    if scope is COUNTY:
        return user.county_code is None or (case.county_code is not None and case.county_code == user.county_code)
    if scope is TOWNSHIP:
        return user.township_code is not None and case.township_code == user.township_code
    if user.department_id is None:
        return False
    leads = case.lead_department_id == user.department_id
    co = any(d.id == user.department_id for d in case.co_handlers)
    return {DEPARTMENT: leads or co, LEAD: leads, CO_HANDLER: co and not leads}.get(scope, False)


def _case_condition(user: User, scope: Scope) -> sa.ColumnElement[bool]:
    """_reaches_case as a WHERE clause on Case."""
    if scope is ANY:
        return sa.true()
    if scope is COUNTY:
        return sa.true() if user.county_code is None else Case.county_code == user.county_code
    if scope is TOWNSHIP:
        return sa.false() if user.township_code is None else Case.township_code == user.township_code
    if user.department_id is None or scope not in (DEPARTMENT, LEAD, CO_HANDLER):
        return sa.false()
    leads = Case.lead_department_id == user.department_id
    co = Case.id.in_(sa.select(case_co_handler.c.case_id).where(case_co_handler.c.department_id == user.department_id))
    return {DEPARTMENT: sa.or_(leads, co), LEAD: leads, CO_HANDLER: sa.and_(co, ~leads)}[scope]


def _reaches_business(user: User, scope: Scope, business) -> bool:
    if scope in (ANY, COUNTY, TOWNSHIP):
        return _reaches_case(user, scope, business)  # a business has a county and a township like a case
    query = sa.select(Case.id).where(Case.business_id == business.id, _case_condition(user, scope)).limit(1)
    return db.session.scalar(query) is not None


def _reaches(user: User, scope: Scope, action: Action, target) -> bool:
    if action.target is Target.NONE or scope is ANY:
        return True
    if target is None:
        return False
    if action.target is CASE:
        return _reaches_case(user, scope, target)
    if action.target is BUSINESS:
        return _reaches_business(user, scope, target)
    return scope is OWN and target.taken_by_id == user.id  # a call


def identity_disclosable(case) -> bool:
    """A hidden tipper (anonymous, or a tip without consent) is seen by nobody."""
    return not case.identity_hidden


# --- the questions every view, template and service asks --------------------------------------------


def role_may(user, name: str) -> bool:
    """Whether the user's role has the action at all (before any target is looked at)."""
    action = ACTIONS[name]
    return bool(getattr(user, "is_authenticated", False)) and user.role in action.grants


def may(user, name: str, target=None) -> bool:
    """Whether the user may do the action to the target: the role's grant, then its scope."""
    action = ACTIONS[name]
    if not role_may(user, name):
        return False
    if action.needs_identity and (target is None or not identity_disclosable(target)):
        return False
    return _reaches(user, action.grants[user.role], action, target)


def case_condition(user, name: str) -> sa.ColumnElement[bool]:
    """The cases the user may do the action to, as a WHERE clause (for lists and searches)."""
    action = ACTIONS[name]
    if action.target is not CASE:
        raise ValueError(f"{name} is not done to a case")
    if not role_may(user, name):
        return sa.false()
    condition = _case_condition(user, action.grants[user.role])
    if action.needs_identity:
        confidential = [k for k, spec in KINDS.items() if spec.identity is Identity.MAY_BE_ANONYMOUS]
        shown = sa.and_(
            Case.anonymous.is_(False), sa.or_(Case.kind.not_in(confidential), Case.disclose_identity.is_(True))
        )
        condition = sa.and_(condition, shown)
    return condition


def visible_cases(user) -> sa.Select:
    """The cases this user may see."""
    return sa.select(Case).where(case_condition(user, "case.view"))


def get_visible_case(user, case_id: int) -> Case | None:
    return db.session.scalar(visible_cases(user).where(Case.id == case_id))


def may_see_identity(user, case) -> bool:
    return may(user, "case.identity", case)


def routing_reasons(user, case) -> list[str]:
    """The router's reasons this user may read: what the caller's phone told, only with the identity."""
    return all_reasons(case.routing) if may_see_identity(user, case) else public_reasons(case.routing)


def routing_candidates(user, case) -> list[str]:
    """The router's candidate townships for this user: narrowed by the phone only with the identity."""
    return candidates(case.routing, may_see_identity(user, case))


def visible_business_cases(user, business) -> list[Case]:
    """The business's cases that this user may see, newest first."""
    query = visible_cases(user).where(Case.business_id == business.id).order_by(Case.received_at.desc())
    return list(db.session.scalars(query))


# --- views ---------------------------------------------------------------------------------------


def check_request():
    """before_request: the route's action, for the role; a target's scope is the view's next step.

    An anonymous request for a staff route goes to the login page; a role without the action gets
    403; a route with no entry (it cannot start, see check_routes) would get 403 too.
    """
    name = ROUTES.get(request.endpoint or "")
    if name in (PUBLIC, MACHINE) or request.endpoint is None:  # None: a 404 or 405 on the way
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if name is None or not role_may(current_user, name):
        abort(403)
    return None


def current_permission() -> str:
    """The action of the route now running."""
    return ROUTES[request.endpoint]


def case_for(name: str, case_id: int) -> Case:
    """The case, if the current user may do the action to it: 404 if they may not see it, else 403.

    A request that may write (anything but GET/HEAD) takes the case's row lock (SELECT … FOR
    UPDATE, as the routing job does): two members of staff pressing 签收 on one case at once are
    served one after the other, and the second sees the case as the first left it, so the state
    table refuses the move instead of both being recorded."""
    writing = request.method not in ("GET", "HEAD")
    case = db.session.get(Case, case_id, with_for_update=writing, populate_existing=writing)
    if case is None or not may(current_user, "case.view", case):
        abort(404)
    if not may(current_user, name, case):
        abort(403)
    return case


def target_or_404(name: str, target):
    """The target, if the current user may do the action to it; else 404."""
    if target is None or not may(current_user, name, target):
        abort(404)
    return target


def check_routes(app) -> None:
    """Refuse to start with a route the table does not cover, or an entry with no route or action."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    stale = sorted(set(ROUTES) - endpoints)
    unknown = sorted(e for e, name in ROUTES.items() if name not in ACTIONS and name not in (PUBLIC, MACHINE))
    if missing or stale or unknown:
        raise RuntimeError(
            f"intake/authz.py ROUTES: routes with no entry {missing}, entries with no route {stale}, "
            f"unknown actions {unknown}"
        )


def init_app(app) -> None:
    app.before_request(check_request)

    @app.context_processor
    def _may():
        return {"may": lambda name, target=None: may(current_user, name, target)}

    check_routes(app)
