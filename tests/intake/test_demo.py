"""`flask demo` gives a newcomer logins and a few cases that the worker routes."""

import sqlalchemy as sa

from intake.cases.models import Case, CaseStatus
from intake.demo import DEMO_CASES, create_demo_cases, create_demo_users
from intake.extensions import db


def test_demo_cases_are_filed_once_and_routed(client, run_jobs):
    create_demo_users()
    assert create_demo_cases() == len(DEMO_CASES)
    assert create_demo_cases() == 0
    db.session.commit()  # flask demo's edge: the routing jobs are enqueued after the commit
    run_jobs()
    statuses = {c.business_name: c.status for c in db.session.scalars(sa.select(Case))}
    assert statuses["好日子大药房"] is CaseStatus.DISPATCHED
    assert CaseStatus.TRIAGE in statuses.values()  # the vague one waits for the dispatcher
    assert client.post("/login", data={"username": "yj-market", "password": "demo1234"}).status_code == 302
    assert "好日子大药房" in client.get("/staff/").get_data(as_text=True)
