"""GET /places/search: the one place search of the dispatcher's and the operator's pickers."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from intake.places import services
from tests.intake.test_dispatch import VAGUE, latest, post

OUBEI = "330324009"


def search(client, **params):
    return client.get("/places/search", query_string=params)


@pytest.fixture
def dispatcher(make_user, login):
    user = make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None)
    login(user)
    return user


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.OPERATOR, Role.ADMIN])
def test_those_who_route_or_file_by_hand_may_search(client, make_user, login, role):
    login(make_user("someone", role=role, county=None, kind=None))
    resp = search(client, q="瓯北")
    assert resp.status_code == 200 and resp.is_json
    first = resp.get_json()["results"][0]
    assert first == {
        "code": OUBEI,
        "name": "瓯北街道",
        "county": "330324",
        "county_name": "永嘉县",
        "level": "township",
        "how": first["how"],
    }


@pytest.mark.parametrize("role, kind", [(Role.DEPARTMENT, "market"), (Role.SUPERVISOR, None), (Role.TOWNSHIP, None)])
def test_others_get_403(client, make_user, login, role, kind):
    login(make_user("someone", role=role, kind=kind, township=OUBEI if role is Role.TOWNSHIP else None))
    assert search(client, q="瓯北").status_code == 403


def test_login_is_required(client):
    resp = search(client, q="瓯北")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_initials_and_plain_characters_find_the_township(client, dispatcher):
    for q in ("obj", "瓯北", "瓯北街道", " 瓯北 "):
        assert search(client, q=q).get_json()["results"][0]["code"] == OUBEI, q


@pytest.mark.parametrize("q, name, how", [("甘浦", "澉浦镇", "按读音"), ("新代", "新埭镇", "按读音")])
def test_homophones_find_the_township_and_say_so(client, dispatcher, q, name, how):
    first = search(client, q=q).get_json()["results"][0]
    assert first["name"] == name and first["how"] == how


def test_villages_of_a_township(client, dispatcher):
    results = search(client, q="罗浮", township=OUBEI).get_json()["results"]
    assert results[0]["code"] == "330324009013" and results[0]["name"] == "罗浮社区"
    assert {r["level"] for r in results} == {"village"}
    assert all(r["code"].startswith(OUBEI) for r in results)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "瓯" * (services.MAX_QUERY + 1)},
        {"q": "罗浮", "township": "999999999"},
        {"q": "罗浮", "township": "330324"},  # a county, not a township
        {"q": "罗浮", "township": "330324009013"},  # a village
        {"q": "罗浮", "township": "'; DROP TABLE division; --"},
    ],
)
def test_bad_parameters_get_400_and_no_results(client, dispatcher, params):
    resp = search(client, **params)
    assert resp.status_code == 400 and resp.get_json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "zzzzqqqq"},
        {"q": "瓯北", "limit": "x"},
        {"q": "%00"},
        {"q": "\x00"},
        {"q": "<script>"},
    ],
)
def test_empty_or_odd_queries_get_an_empty_or_short_list_never_a_500(client, dispatcher, params):
    resp = search(client, **params)
    assert resp.status_code == 200 and isinstance(resp.get_json()["results"], list)


def test_limit_is_bounded(client, dispatcher):
    assert 1 <= len(search(client, q="z", limit=1000).get_json()["results"]) <= services.MAX_LIMIT
    assert len(search(client, q="z", limit=1).get_json()["results"]) <= 1


def test_a_typed_name_is_resolved(app):
    assert services.resolve_place("瓯北") == OUBEI
    assert services.resolve_place("obj") == OUBEI
    assert services.resolve_place(f"{OUBEI} 瓯北街道 永嘉县") == OUBEI  # the old picker's text
    assert services.resolve_place("罗浮", township=OUBEI) == "330324009013"
    assert services.resolve_place("") is None and services.resolve_place("瓯" * 100) is None


@pytest.fixture
def triage_case(client, run_jobs):
    post(client, VAGUE)
    run_jobs()
    case = latest()
    assert case.status is CaseStatus.TRIAGE
    return case


def test_a_dispatcher_who_types_a_name_without_picking_routes_there(client, triage_case, dispatcher):
    case = triage_case
    resp = client.post(
        f"/dispatch/cases/{case.id}/route", data={"township": "瓯北", "township_code": "", "industry": "pharmacy"}
    )
    assert resp.status_code == 302
    case = db.session.get(Case, case.id)
    assert case.status is CaseStatus.DISPATCHED and case.township_code == OUBEI


def test_the_picked_code_wins_over_the_text(client, triage_case, dispatcher):
    case = triage_case
    client.post(
        f"/dispatch/cases/{case.id}/route",
        data={"township": "瓯北街道", "township_code": "330324001", "industry": "pharmacy"},
    )
    assert db.session.scalar(sa.select(Case)).township_code == "330324001"
