"""No dead ends (issue 11): odd ids, dates and strings in a URL are a 404 or a form error, never a 500.

One test, generated from the app's URL map: every GET route, as every role, with hostile values
for its path arguments and for every query parameter its view reads. Run it on PostgreSQL too
(see the issue): SQLite does not overflow an INTEGER column and keeps NUL characters.
"""

import re
from urllib.parse import quote

import pytest

from intake.accounts.models import Role

HOSTILE = [
    "99999999999999999999",
    str(2**31),
    str(2**63),
    "-1",
    "0",
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "2026-02-30",
    "2026-W99",
    "9999-12-31T23:59",
    "0001-01-01 00:00",
    "",
    " ",
    "x" * 5000,
    "\x00",
    "12\x0034",
    "abc",
    "１２３",
]

# The query parameters each view reads (request.args, or a GET form fed from it). Every route also
# gets the generic ones, so that a view which starts reading one is covered before anyone adds it here.
GENERIC = ["page", "q", "id"]
QUERY = {
    "staff.queue": ["status", "kind", "industry", "township", "overdue", "q", "page"],
    "staff.overdue": ["department", "township"],
    "reports.figures": ["period", "date", "week", "month", "from", "to"],
    "reports.figures_csv": ["period", "date"],
    "reports.figures_xlsx": ["period", "date"],
    "admin.messages": ["status", "channel", "recipient"],
    "admin.policies": ["start", "amount", "unit"],
    "admin.calendar": ["year"],
    "admin.reference_terms": ["industry", "q"],
    "places.search": ["q", "township", "limit"],
    "api.get_case": ["code"],
    "public.lookup": ["no", "code", "tracking_no", "lookup_code"],
    "accounts.login": ["next"],
    "dispatch.triage": ["status", "township"],
    "hotline.feed": ["since"],
}
# A parameter that only does something next to others (the policy check runs when `start` is there).
COMPANIONS = {
    "admin.policies": {"start": "2026-09-28 10:00", "amount": "3", "unit": "working_days"},
    "reports.figures": {"period": "month"},
    "places.search": {"q": "欧北"},
}

ROLES = [
    None,
    Role.DEPARTMENT,
    Role.TOWNSHIP,
    Role.DISPATCHER,
    Role.OPERATOR,
    Role.SUPERVISOR,
    Role.ADMIN,
]

PATH_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _get_rules(app):
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )


def _path(rule, value: str) -> str:
    return PATH_ARGUMENT.sub(lambda _m: quote(value, safe="") or "x", rule.rule)


def _urls(rule):
    """(path, query) pairs: hostile path arguments, then each parameter alone, with companions, and all at once."""
    plain = PATH_ARGUMENT.sub("1", rule.rule)
    if rule.arguments:
        for value in HOSTILE:
            yield _path(rule, value), {}
    params = list(dict.fromkeys(QUERY.get(rule.endpoint, []) + GENERIC))
    companions = COMPANIONS.get(rule.endpoint, {})
    for value in HOSTILE:
        for name in params:
            yield plain, {name: value}
            if companions:
                yield plain, {**companions, name: value}
        yield plain, dict.fromkeys(params, value)


def _client_as(app, make_user, role):
    client = app.test_client()
    if role is None:
        return client
    user = make_user(
        username=f"odd-{role.value}",
        role=role,
        kind="market" if role is Role.DEPARTMENT else None,
        township="330324009" if role is Role.TOWNSHIP else None,
    )
    response = client.post("/login", data={"username": user.username, "password": "pw-" + user.username})
    assert response.status_code == 302, role
    return client


# a 503 that is the route's answer, not a failure: /readyz with no RQ worker running in the test
SAYS_503 = {("health.readyz", 503)}


def test_no_get_route_answers_an_odd_parameter_with_a_500(app, make_user):
    from intake.extensions import db

    rules = _get_rules(app)
    assert {"staff.overdue", "reports.figures", "places.search", "api.get_case"} <= {r.endpoint for r in rules}
    failures = []
    for role in ROLES:
        client = _client_as(app, make_user, role)
        for rule in rules:
            for path, query in _urls(rule):
                try:
                    status = client.get(path, query_string=query).status_code
                except Exception as exc:  # TESTING propagates what would be a 500
                    db.session.rollback()
                    status = f"500 ({type(exc).__name__}: {str(exc)[:120]})"
                if str(status).startswith("5") and (rule.endpoint, status) not in SAYS_503:
                    failures.append(f"{role.value if role else 'anonymous'} GET {path} {query!r:.200}: {status}")
    assert not failures, f"{len(failures)} responses were 5xx:\n" + "\n".join(dict.fromkeys(failures[:60]))


@pytest.mark.parametrize("value", ["99999999999999999999", "-5", "abc", "\x00"])
def test_an_odd_department_on_the_overdue_page_is_ignored(client, make_user, login, value):
    login(make_user("sup", role=Role.SUPERVISOR, kind=None))
    response = client.get("/staff/overdue", query_string={"department": value})
    assert response.status_code in (200, 400)
