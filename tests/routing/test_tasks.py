"""The routing job through a real worker: idempotent, and nothing lost when Redis is down."""

import sqlalchemy as sa
from redis import Redis

from intake.cases.models import Case, CaseEvent, CaseStatus
from intake.extensions import db
from routing.tasks import route_case, sweep_unrouted
from tests.intake.test_api import PHARMACY


def test_running_the_routing_job_twice_changes_nothing_the_second_time(client, run_jobs):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    case_id = db.session.scalar(sa.select(Case.id))
    events = db.session.scalar(sa.select(sa.func.count(CaseEvent.id)))
    assert route_case(case_id) == "skipped"
    assert db.session.scalar(sa.select(sa.func.count(CaseEvent.id))) == events
    # a complaint dispatched once: sign-for, return window, and the decision counted from receipt
    assert sorted(c.name for c in db.session.get(Case, case_id).clocks) == ["decision", "return", "sign"]


def test_case_is_stored_and_numbered_when_redis_is_down_and_the_sweep_routes_it(app, client, run_jobs):
    real = app.extensions["redis"]
    app.extensions["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    try:
        resp = client.post("/api/v1/cases", json=PHARMACY)
    finally:
        app.extensions["redis"] = real
    assert resp.status_code == 201 and resp.get_json()["tracking_no"]
    assert run_jobs() == 0  # nothing reached the queue
    assert db.session.scalar(sa.select(Case.status)) is CaseStatus.RECEIVED

    assert sweep_unrouted() == 1
    run_jobs()
    assert db.session.scalar(sa.select(Case.status)) is CaseStatus.DISPATCHED


def test_sweep_leaves_routed_cases_alone(client, run_jobs):
    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    assert sweep_unrouted() == 0


def test_a_case_the_router_is_unsure_of_goes_to_triage_with_reasons(client, run_jobs):
    client.post(
        "/api/v1/cases",
        json={**PHARMACY, "business_name": "", "business_address": "", "description": "买的东西有问题，老板不给退。"},
    )
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    assert case.status is CaseStatus.TRIAGE and case.lead_department_id is None
    assert case.routing["reasons"] and case.running_clock("triage") is not None
