"""The authorization table, route by route: every route × every role × a target of another
department, township and county (and one of the user's own), answered as intake/authz.py says.

The routes come from the app's URL map, so a new route is tested the day it is added; a route
missing from the table stops the app from starting at all (and fails test_every_route_is_in_the_table).
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from intake.accounts.models import Role, User
from intake.authz import ACTIONS, MACHINE, PUBLIC, ROUTES, Target, may, role_may
from intake.businesses.models import Business
from intake.callbacks.models import Answer, Callback, Review
from intake.cases.models import Clock, Extension
from intake.extensions import db
from intake.hotline.models import Call, CallStatus
from intake.reference.models import Department, Division, DivisionLevel
from intake.types import utcnow
from notify.models import Message
from tests.factories import OUBEI, YONGJIA, CaseFactory

HAINING = "330481"
FAST_HASH = "pbkdf2:sha256:1"  # these users log in hundreds of times; the hash's strength is not under test

# (username, role, county, department kind, township): the county's staff, then platform-wide staff
USERS = {
    "department": (Role.DEPARTMENT, YONGJIA, "market", None),
    "township": (Role.TOWNSHIP, YONGJIA, None, OUBEI),
    "dispatcher": (Role.DISPATCHER, YONGJIA, None, None),
    "supervisor": (Role.SUPERVISOR, YONGJIA, None, None),
    "operator": (Role.OPERATOR, YONGJIA, None, None),
    "admin": (Role.ADMIN, None, None, None),
    "city-dispatcher": (Role.DISPATCHER, None, None, None),
    "city-supervisor": (Role.SUPERVISOR, None, None, None),
    "city-operator": (Role.OPERATOR, None, None, None),
}
# logging out is tested on its own (test_logout_ends_the_session): it ends the session the matrix needs
STAFF_ROUTES = sorted(e for e, name in ROUTES.items() if name not in (PUBLIC, MACHINE, "session.end"))

# what a POST carries: enough for the action to happen if it is allowed (extra fields are ignored)
FORM = {
    "reason": "授权测试的理由",
    "text": "授权测试的答复",
    "result": "mediated",
    "note": "授权测试",
    "decision": "approve",
    "answer": "satisfied",
    "opinion": "授权测试的协办意见",
    "findings": "授权测试的核查情况",
    "industry": "catering",
    "lead_kind": "market",
    "display_name": "改过的名字",
    "password": "a-new-password-123",
    "password2": "a-new-password-123",
    "active": "y",
    "text_value": "x",
}


def _department(county: str, kind: str) -> Department:
    return db.session.scalar(sa.select(Department).filter_by(county_code=county, kind=kind))


def _township_of(county: str) -> str:
    return db.session.scalar(
        sa.select(Division.code)
        .where(Division.parent_code == county, Division.level == DivisionLevel.TOWNSHIP)
        .order_by(Division.code)
    )


def _user(username: str) -> User:
    role, county, kind, township = USERS[username]
    user = User(
        username=username,
        display_name=username,
        role=role,
        county_code=county,
        department=_department(county, kind) if kind else None,
        township_code=township,
        password_hash=generate_password_hash("pw-" + username, FAST_HASH),
    )
    db.session.add(user)
    return user


def _side(county: str, township: str, lead: Department, co: Department, operator: User) -> dict:
    """A case of this county, township and department, with all that hangs on it."""
    case = CaseFactory(
        dispatched=True,
        county_code=county,
        township_code=township,
        lead_department=lead,
        business_name="授权测试小吃店",
    )
    case.co_handlers.append(co)
    now = utcnow()
    clock = Clock(case=case, name="resolve", started_at=now, due_at=now + timedelta(days=10))
    db.session.add(clock)
    db.session.flush()
    extension = Extension(
        case=case, clock=clock, reason="需要检测", amount=5, unit="working_days", old_due_at=clock.due_at
    )
    db.session.add(extension)
    replied = CaseFactory(replied=True, county_code=county, township_code=township, lead_department=lead)
    callback = Callback(
        case=replied,
        ask_at=now,
        asked_at=now,
        answer=Answer.DISSATISFIED,
        answered_at=now,
        review=Review.PENDING,
    )
    business = Business(name="授权测试小吃店", name_key="授权测试小吃店", county_code=county, township_code=township)
    case.business = business
    call = Call(
        call_id=f"auth-{county}",
        caller="+8613800000000",
        started_at=now,
        status=CallStatus.TAKEN,
        taken_by_id=operator.id,
        taken_at=now,
    )
    message = Message(
        case_id=case.id,
        channel="sms",
        recipient="+8613900000000",
        template="web_receipt",
        body="已登记",
        idempotency_key=f"auth-{county}",
    )
    db.session.add_all([extension, callback, business, call, message])
    db.session.flush()
    return {
        "case": case,
        "extension": extension,
        "callback": callback,
        "business": business,
        "call": call,
        "message": message,
    }


@pytest.fixture
def world(app):
    """Two sides: the user's own county (永嘉, 瓯北, its market department) and another (海宁)."""
    users = {name: _user(name) for name in USERS}
    other_operator = User(
        username="haining-operator",
        display_name="海宁话务员",
        role=Role.OPERATOR,
        county_code=HAINING,
        password_hash="x",
    )
    db.session.add(other_operator)
    db.session.flush()
    home = _side(YONGJIA, OUBEI, _department(YONGJIA, "market"), _department(YONGJIA, "agriculture"), users["operator"])
    foreign = _side(
        HAINING,
        _township_of(HAINING),
        _department(HAINING, "market"),
        _department(HAINING, "agriculture"),
        other_operator,
    )
    db.session.commit()
    return {"users": users, "home": home, "foreign": foreign}


@pytest.fixture
def reference_kept(app):
    """Put back the seeded reference rows an administrator's allowed request changed (the matrix's
    admin requests really rename departments and remove words; later tests need the seed as it was)."""
    kept = [t for t in db.metadata.sorted_tables if t not in app.config["TEST_TABLES_TO_EMPTY"]]

    def rows(table):
        return {
            tuple(r._mapping[c] for c in table.primary_key.columns): dict(r._mapping)
            for r in db.session.execute(sa.select(table))
        }

    before = {t.name: rows(t) for t in kept}
    yield
    db.session.rollback()
    for table in reversed(kept):
        now = rows(table)
        old = before[table.name]
        pk = list(table.primary_key.columns)
        for key in now.keys() - old.keys():
            db.session.execute(table.delete().where(*[c == v for c, v in zip(pk, key)]))
    for table in kept:
        now = rows(table)
        old = before[table.name]
        pk = list(table.primary_key.columns)
        for key, row in old.items():
            if key not in now:
                db.session.execute(table.insert().values(**row))
            elif now[key] != row:
                db.session.execute(table.update().where(*[c == v for c, v in zip(pk, key)]).values(**row))
    db.session.commit()


def _url_args(app, endpoint: str, side: dict, user: User) -> dict:
    """Values for the route's URL variables: the side's objects, or a real row for admin pages."""
    from intake.reference.models import IndustryTerm, SmsKeyword, TimeLimitPolicy
    from notify.models import MessageTemplate

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    known = {
        "case_id": lambda: side["case"].id,
        "extension_id": lambda: side["extension"].id,
        "callback_id": lambda: side["callback"].id,
        "business_id": lambda: side["business"].id,
        "call_id": lambda: side["call"].id,
        "message_id": lambda: side["message"].id,
        "user_id": lambda: user.id,
        "policy_id": lambda: db.session.scalar(sa.select(TimeLimitPolicy.id).limit(1)),
        "key": lambda: db.session.scalar(sa.select(MessageTemplate.key).limit(1)),
        "county_code": lambda: side["case"].county_code,
        "code": lambda: side["case"].township_code,
        "industry": lambda: "catering",
        "kind": lambda: "market",
        "term_id": lambda: db.session.scalar(sa.select(IndustryTerm.id).limit(1)),
        "keyword_id": lambda: db.session.scalar(sa.select(SmsKeyword.id).limit(1)),
        "day": lambda: (date.today() + timedelta(days=400)).isoformat(),
        "tracking_no": lambda: side["case"].tracking_no,
        "key_id": lambda: _open311_key_id(),
    }
    unknown = set(rule.arguments) - set(known)
    assert not unknown, f"{endpoint}: teach this test what {unknown} should be"
    return {name: known[name]() for name in rule.arguments}


def _open311_key_id() -> int:
    """An Open311 API key to revoke (the admin pages' route needs a row)."""
    from intake.open311.models import ApiKey
    from intake.open311.services import issue_key

    key_id = db.session.scalar(sa.select(ApiKey.id).limit(1))
    if key_id is None:
        key_id = issue_key("授权测试单位", "10 per minute")[0].id
        db.session.commit()
    return key_id


def _target(endpoint: str, side: dict):
    """The object the route's action is done to (an extension's or a callback's is its case)."""
    target = ACTIONS[ROUTES[endpoint]].target
    if target is Target.NONE:
        return None
    if target is Target.BUSINESS:
        return side["business"]
    if target is Target.CALL:
        return side["call"]
    if "/extensions/" in _rule(endpoint):
        return side["extension"].case
    if "/callbacks/" in _rule(endpoint):
        return side["callback"].case
    return side["case"]


def _rule(endpoint: str) -> str:
    from flask import current_app

    return next(r.rule for r in current_app.url_map.iter_rules() if r.endpoint == endpoint)


def expected(user: User | None, endpoint: str, target) -> str:
    """The table's answer: 'login', 403, 404 or 'allowed'."""
    name = ROUTES[endpoint]
    action = ACTIONS[name]
    if user is None:
        return "login"
    if not role_may(user, name):
        return 403
    if action.target is Target.NONE or may(user, name, target):
        return "allowed"
    if action.target is Target.CASE and may(user, "case.view", target):
        return 403
    return 404


def _snapshot() -> dict:
    """Row counts of every table and the cases' states: what a refused request must leave alone."""
    counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    from intake.cases.models import Case

    states = db.session.execute(
        sa.select(Case.id, Case.status, Case.lead_department_id, Case.township_code, Case.county_code).order_by(Case.id)
    ).all()
    return {"counts": counts, "cases": [tuple(r) for r in states]}


def _request(client, app, endpoint: str, args: dict):
    from flask import url_for

    methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **args)
    if "GET" in methods:
        return client.get(url)
    return client.post(url, data=FORM)


def _login(client, username: str):
    response = client.post("/login", data={"username": username, "password": "pw-" + username})
    assert response.status_code == 302, f"{username} could not log in"


@pytest.mark.parametrize("username", [None, *USERS])
@pytest.mark.parametrize("endpoint", STAFF_ROUTES)
def test_each_route_answers_each_role_as_the_table_says(app, client, world, endpoint, username, request):
    if username == "admin" and endpoint.startswith("admin."):
        request.getfixturevalue("reference_kept")
    user = world["users"][username] if username else None
    if user is not None:
        _login(client, username)
    for side_name in ("foreign", "home"):
        side = world[side_name]
        db.session.expire_all()
        target = _target(endpoint, side)
        want = expected(user, endpoint, target)
        args = _url_args(app, endpoint, side, user or world["users"]["admin"])
        before = _snapshot()
        response = _request(client, app, endpoint, args)
        where = f"{endpoint} as {username or 'anonymous'} on the {side_name} side"
        if want == "login":
            assert response.status_code == 302 and "/login" in response.headers["Location"], where
        elif want == "allowed":
            assert response.status_code not in (401, 403), where
            assert "/login" not in response.headers.get("Location", ""), where
            if target is not None:
                assert response.status_code != 404, where
        else:
            assert response.status_code == want, f"{where}: {response.status_code}, the table says {want}"
        if want != "allowed":
            db.session.expire_all()
            assert _snapshot() == before, f"{where}: a refused request changed something"


def test_every_route_is_in_the_table(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES)
    assert all(name in ACTIONS or name in (PUBLIC, MACHINE) for name in ROUTES.values())


def test_a_route_missing_from_the_table_stops_the_app(app):
    from flask import Flask

    from intake.authz import check_routes

    other = Flask("other")
    other.add_url_rule("/new-page", "new_page", lambda: "")
    with pytest.raises(RuntimeError, match="new_page"):
        check_routes(other)


def test_both_sides_are_reached_by_someone(app, world):
    """The table is not a wall: own-side targets are reached by the roles it names."""
    home = world["home"]["case"]
    users = world["users"]
    assert may(users["department"], "case.sign", home)
    assert may(users["township"], "case.site_visit", home)
    assert may(users["dispatcher"], "case.view", home)
    assert not may(users["department"], "case.view", world["foreign"]["case"])


def test_a_case_with_no_county_is_only_for_platform_wide_staff(app, client, world):
    unplaced = CaseFactory(triage=True, county_code=None)
    db.session.commit()
    for username, sees in [
        ("dispatcher", False),
        ("supervisor", False),
        ("operator", False),
        ("city-dispatcher", True),
        ("city-supervisor", True),
        ("admin", True),
    ]:
        _login(client, username)
        response = client.get(f"/staff/cases/{unplaced.id}")
        assert response.status_code == (200 if sees else 404), username
        client.post("/logout")
    _login(client, "dispatcher")
    assert unplaced.tracking_no not in client.get("/dispatch/").get_data(as_text=True)


def test_business_files_follow_the_table(app, client, world):
    business = world["foreign"]["business"]
    for username in ("department", "township", "dispatcher", "supervisor"):
        _login(client, username)
        assert client.get(f"/staff/businesses/{business.id}").status_code == 404, username
        client.post("/logout")
    _login(client, "city-supervisor")
    assert client.get(f"/staff/businesses/{business.id}").status_code == 200


def test_logout_ends_the_session(app, client, world):
    assert client.post("/logout").headers["Location"].startswith("/login")
    _login(client, "department")
    assert client.get("/staff/").status_code == 200
    client.post("/logout")
    assert "/login" in client.get("/staff/").headers["Location"]


def test_machine_routes_want_their_credentials(app, client):
    assert client.post("/sms/inbound", data=b"{}", headers={"X-Signature": "0" * 64}).status_code == 401
    assert client.post("/hotline/calls", json={"call_id": "1"}).status_code == 401
