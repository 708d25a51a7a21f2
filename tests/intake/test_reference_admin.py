"""Reference data on the administrator's pages: every change audited and in force at once, everywhere."""

import time

import pytest
import sqlalchemy as sa
from flask import g

from intake.accounts.models import Role
from intake.cases.models import Case
from intake.extensions import db
from intake.reference import cache as reference_cache
from intake.reference.models import Department, Division, IndustryTerm, ReferenceChange, RoutingRule
from intake.reference.seed import department_kind_names
from routing import services as routing_services

YONGJIA, OUBEI = "330324", "330324009"
PHARMACY_CASE = {
    "text": "在这家药店买的感冒药过期了，店员不给退。",
    "business_name": "康民大药房",
    "address": "永嘉县瓯北街道",
    "caller_phone": None,
}


@pytest.fixture(autouse=True)
def _restore_reference_data(app):
    """Reference data outlives the per-test cleanup: put back what these tests change."""
    terms = {(t.term, t.industry_code): (t.weight, t.note) for t in db.session.scalars(sa.select(IndustryTerm))}
    yield
    db.session.rollback()
    db.session.execute(sa.delete(ReferenceChange))
    db.session.execute(sa.delete(RoutingRule).where(RoutingRule.county_code == YONGJIA))
    db.session.execute(sa.update(Division).where(Division.code == OUBEI).values(aliases=[]))
    names = department_kind_names()
    for d in db.session.scalars(sa.select(Department).filter_by(county_code=YONGJIA)):
        d.name = "永嘉县" + names[d.kind]
    for t in db.session.scalars(sa.select(IndustryTerm)):
        if (t.term, t.industry_code) not in terms:
            db.session.delete(t)
        else:
            t.weight, t.note = terms[(t.term, t.industry_code)]
    db.session.flush()
    from intake.seeding import seed_all

    seed_all()  # the terms a test deleted come back: no audit row stops them now
    db.session.commit()
    routing_services.invalidate_router()


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", Role.ADMIN, kind=None)
    login(user)
    return user


def become_another_process(router_cache: dict, version, checked_at=None) -> None:
    """Make this process's caches those of another process that last read the reference version
    (`version`) at `checked_at` (None: never), with the routers it had built then."""
    routing_services._cache.clear()
    routing_services._cache.update(router_cache)
    reference_cache.forget()
    reference_cache._state.update(version=version, checked_at=checked_at)


def file_pharmacy_case(client, address):
    body = {
        "kind": "complaint",
        "business_name": "康民大药房",
        "business_address": address,
        "description": PHARMACY_CASE["text"],
        "complainant": {"name": "王先生", "phone": "13812345678"},
        "anonymous": False,
    }
    return client.post("/api/v1/cases", json=body).get_json()["tracking_no"]


def set_rule(client, industry, lead, co=(), county=YONGJIA):
    return client.post(
        f"/admin/reference/{county}/rules/{industry}",
        data={f"rule-{industry}-lead": lead, f"rule-{industry}-co": list(co)},
    )


def test_a_countys_routing_table_changed_on_the_page_routes_the_next_case_everywhere(app, admin, client, run_jobs):
    admin_id = admin.id
    # Two processes' routers, built before the change: this one's and another's (a worker elsewhere).
    assert routing_services.get_router().decide(PHARMACY_CASE).lead_department == "market"
    elsewhere = dict(routing_services._cache), reference_cache._state["version"]

    page = client.get(f"/admin/reference/{YONGJIA}")
    assert page.status_code == 200 and "永嘉县卫生健康局" in page.text and "各县通用" in page.text
    assert set_rule(client, "pharmacy", "health", ["market"]).status_code == 302

    # The web process: the router the page's process uses.
    decision = routing_services.get_router().decide(PHARMACY_CASE)
    assert decision.lead_department == "health" and decision.co_handlers == ["market"]

    # A worker: RQ's SimpleWorker routes the next case of the county, and only of that county.
    yongjia, haining = file_pharmacy_case(client, "永嘉县瓯北街道"), file_pharmacy_case(client, "海宁市硖石街道")
    run_jobs()
    by_no = {c.tracking_no: c for c in db.session.scalars(sa.select(Case))}
    assert by_no[yongjia].lead_department.name == "永嘉县卫生健康局"
    assert [d.name for d in by_no[yongjia].co_handlers] == ["永嘉县市场监督管理局"]
    assert by_no[haining].lead_department.name == "海宁市市场监督管理局"

    # A separately built router cache sees the Redis version move and rebuilds, once its
    # REFERENCE_CHECK_SECONDS since it last read the version have passed.
    become_another_process(*elsewhere, checked_at=time.monotonic())
    assert routing_services.refresh_router() is False  # read the version just now: not again yet
    reference_cache._state["checked_at"] -= app.config["REFERENCE_CHECK_SECONDS"]
    assert routing_services.refresh_router() is True
    assert routing_services.get_router().decide(PHARMACY_CASE).lead_department == "health"
    assert routing_services.refresh_router() is False  # and only once
    g.pop("_login_user", None)  # the worker ended the session that held the logged-in user

    # Each change is an audited row: who, when, before, after; the page lists them.
    assert set_rule(client, "pharmacy", "health").status_code == 302
    rows = db.session.scalars(sa.select(ReferenceChange).order_by(ReferenceChange.id)).all()
    assert [(r.table, r.key, r.user_id) for r in rows] == [("routing_rule", f"{YONGJIA}|pharmacy", admin_id)] * 2
    assert rows[0].before is None and rows[0].after == {"lead": "health", "co_handlers": ["market"]}
    assert rows[1].before == {"lead": "health", "co_handlers": ["market"]}
    assert rows[1].after == {"lead": "health", "co_handlers": []} and rows[1].at is not None
    page = client.get(f"/admin/reference/{YONGJIA}")
    assert page.text.count('class="change"') == 2 and "本县规则" in page.text

    # Back to the '*' row: audited as a deletion, and in force at once.
    reset = client.post(f"/admin/reference/{YONGJIA}/rules/pharmacy/reset", follow_redirects=True)
    assert reset.status_code == 200 and "恢复" in reset.text
    assert db.session.scalar(sa.select(ReferenceChange).order_by(ReferenceChange.id.desc())).after is None
    assert routing_services.get_router().decide(PHARMACY_CASE).lead_department == "market"


def test_seed_keeps_what_an_administrator_changed_or_deleted(app, admin, client):
    term = db.session.scalar(sa.select(IndustryTerm).filter_by(industry_code="pharmacy").order_by(IndustryTerm.id))
    other = db.session.scalar(
        sa.select(IndustryTerm).filter_by(industry_code="pharmacy").order_by(IndustryTerm.id).offset(1)
    )
    term_id, word, industry = term.id, term.term, term.industry_code
    other_id, other_word = other.id, other.term
    db.session.rollback()
    assert client.post(f"/admin/reference/terms/{term_id}/delete").status_code == 302
    assert client.post(f"/admin/reference/terms/{other_id}", data={"weight": "0.5", "note": "改"}).status_code == 302
    renamed = client.post(f"/admin/reference/{YONGJIA}/departments/health", data={"dept-health-name": "永嘉县卫健局"})
    assert renamed.status_code == 302
    assert set_rule(client, "pharmacy", "health").status_code == 302

    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(IndustryTerm).filter_by(term=word, industry_code=industry)) is None
    assert db.session.scalar(sa.select(IndustryTerm.weight).filter_by(term=other_word, industry_code=industry)) == 0.5
    assert db.session.scalar(sa.select(Department.name).filter_by(county_code=YONGJIA, kind="health")) == "永嘉县卫健局"
    rule = db.session.scalar(sa.select(RoutingRule).filter_by(county_code=YONGJIA, industry_code="pharmacy"))
    assert rule.lead_kind == "health"
    deleted = db.session.scalar(sa.select(ReferenceChange).filter_by(table="industry_term", key=f"{word}|{industry}"))
    assert deleted.before is not None and deleted.after is None


def test_aliases_and_terms_on_the_pages_reach_the_router(admin, client):
    case = {"text": "老瓯渡那家药店卖过期药", "business_name": None, "address": None, "caller_phone": None}
    assert routing_services.get_router().decide(case).triage
    added = client.post(f"/admin/reference/{YONGJIA}/aliases", data={"alias-code": OUBEI, "alias-name": "老瓯渡"})
    assert added.status_code == 302
    decision = routing_services.get_router().decide(case)
    assert not decision.triage and decision.township == OUBEI
    assert "老瓯渡" in client.get(f"/admin/reference/{YONGJIA}").text
    row = db.session.scalar(sa.select(ReferenceChange).filter_by(table="division"))
    assert (row.key, row.before, row.after) == (OUBEI, {"aliases": []}, {"aliases": ["老瓯渡"]})
    removed = client.post(f"/admin/reference/{YONGJIA}/aliases/{OUBEI}/delete", data={"name": "老瓯渡"})
    assert removed.status_code == 302
    assert routing_services.get_router().decide(case).triage

    text = {"text": "那家叫小林的铺子卖的鹭鸶糕发霉了", "business_name": None, "address": "永嘉县瓯北街道"}
    text["caller_phone"] = None
    form = {"term-term": "鹭鸶糕", "term-industry": "food_processing", "term-weight": "3", "term-note": ""}
    assert client.post("/admin/reference/terms", data=form).status_code == 302
    assert routing_services.get_router().decide(text).industry == "food_processing"
    page = client.get("/admin/reference/terms?industry=food_processing")
    assert "鹭鸶糕" in page.text and page.text.count('class="change"') == 1


def test_the_commands_go_through_the_same_service_and_are_audited(app, admin, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["routing", "set-rule", YONGJIA, "pharmacy", "--lead", "health"]).exit_code == 0
    assert runner.invoke(args=["routing", "add-term", "鹭鸶糕", "food_processing"]).exit_code == 0
    assert runner.invoke(args=["divisions", "alias", OUBEI, "老瓯渡"]).exit_code == 0
    rows = db.session.scalars(sa.select(ReferenceChange).order_by(ReferenceChange.id)).all()
    assert [(r.table, r.user_id) for r in rows] == [("routing_rule", None), ("industry_term", None), ("division", None)]
    assert "命令行" in client.get(f"/admin/reference/{YONGJIA}").text


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.DISPATCHER, Role.SUPERVISOR, Role.OPERATOR])
def test_only_administrators_may_change_reference_data(client, make_user, login, role):
    login(make_user("someone", role))
    for path in ("/admin/reference/", f"/admin/reference/{YONGJIA}", "/admin/reference/terms"):
        assert client.get(path).status_code == 403
    assert set_rule(client, "pharmacy", "health").status_code == 403
    assert client.post("/admin/reference/terms", data={"term-term": "x"}).status_code == 403
    assert client.post(f"/admin/reference/{YONGJIA}/aliases", data={"alias-code": OUBEI}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferenceChange)) == 0


def test_bad_input_gets_a_chinese_form_error_and_changes_nothing(admin, client):
    cases = [
        (set_rule(client, "pharmacy", "nonsense"), "该县没有这类部门"),
        (set_rule(client, "pharmacy", "health", ["health"]), "牵头部门不能同时是配合部门"),
        (set_rule(client, "pharmacy", ""), "请选择牵头部门"),
        (set_rule(client, "other", "market"), "没有这个行业"),
        (set_rule(client, "no-such-industry", "market"), "没有这个行业"),
        (client.post("/admin/reference/terms", data={"term-term": "糕", "term-industry": "grocery"}), "请填写权重"),
        (
            client.post(
                "/admin/reference/terms", data={"term-term": "糕", "term-industry": "grocery", "term-weight": "很多"}
            ),
            "请填写数字",
        ),
        (
            client.post(
                "/admin/reference/terms", data={"term-term": "糕", "term-industry": "grocery", "term-weight": "99"}
            ),
            "权重须在",
        ),
        (
            client.post("/admin/reference/terms", data={"term-term": "糕", "term-industry": "x", "term-weight": "1"}),
            "没有这个行业",
        ),
        (
            client.post(f"/admin/reference/{YONGJIA}/aliases", data={"alias-code": "330402001", "alias-name": "某地"}),
            "区划代码须为本县",
        ),
        (
            client.post(f"/admin/reference/{YONGJIA}/aliases", data={"alias-code": "330324999", "alias-name": "某地"}),
            "没有这个区划代码",
        ),
        (
            client.post(f"/admin/reference/{YONGJIA}/aliases", data={"alias-code": OUBEI, "alias-name": "老"}),
            "别名须为 2 到 32 个字",
        ),
        (
            client.post(f"/admin/reference/{YONGJIA}/departments/health", data={"dept-health-name": ""}),
            "请填写部门名称",
        ),
        (
            client.post(f"/admin/reference/{YONGJIA}/departments/nonsense", data={"dept-nonsense-name": "某某局"}),
            "没有",
        ),
    ]
    for response, message in cases:
        assert response.status_code == 400, message
        assert "未保存" in response.text and message in response.text
    assert client.get("/admin/reference/999999").status_code == 404
    assert client.post("/admin/reference/terms/999999", data={"weight": "1"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferenceChange)) == 0
    assert db.session.scalar(sa.select(RoutingRule).filter_by(county_code=YONGJIA)) is None
