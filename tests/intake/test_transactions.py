"""Commit at the edge: a failed action stores nothing, a GET that only reads commits nothing,
and only intake/transaction.py commits."""

import contextlib
import pathlib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.models import Case, CaseKind, Channel, PersonalDataAccess
from intake.cases.services import Submission, submit_case
from intake.extensions import db
from intake.jobcontext import in_app_context
from intake.redis_conn import get_queue
from intake.transaction import transactional
from tests.intake.test_api import PHARMACY
from tests.intake.test_queue import file_and_route

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The one module that commits; no other exception (seeding and the demo commit through it too).
MAY_COMMIT = {"intake/transaction.py"}


@contextlib.contextmanager
def counting_commits():
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    sa.event.listen(Session, "after_commit", listener)
    try:
        yield commits
    finally:
        sa.event.remove(Session, "after_commit", listener)


def stored_cases() -> int:
    """Cases as another connection sees them: what was committed."""
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(Case))


def _submission() -> Submission:
    return Submission(
        kind=CaseKind.COMPLAINT,
        channel=Channel.API,
        description="药店卖过期药，不肯退钱。",
        complainant_phone="+8613812345678",
    )


def test_a_step_that_raises_after_adding_rows_stores_nothing():
    @transactional
    def file_then_fail():
        submit_case(_submission())
        raise RuntimeError("after the case was added")

    with counting_commits() as commits, pytest.raises(RuntimeError):
        file_then_fail()
    assert commits == [] and stored_cases() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
    assert get_queue().count == 0  # no routing job for a case that does not exist


def test_a_job_that_raises_stores_nothing_and_one_that_returns_commits():
    @in_app_context
    def job(fail: bool):
        submit_case(_submission())
        if fail:
            raise RuntimeError("the job failed")

    with pytest.raises(RuntimeError):
        job(True)
    assert stored_cases() == 0
    job(False)
    assert stored_cases() == 1 and get_queue().count == 1


def test_a_request_that_fails_after_adding_rows_stores_nothing(client, monkeypatch):
    def submit_then_fail(*args, **kwargs):
        submit_case(*args, **kwargs)
        raise RuntimeError("after the case was added")

    monkeypatch.setattr("intake.api.views.submit_case", submit_then_fail)
    with counting_commits() as commits, pytest.raises(RuntimeError):
        client.post("/api/v1/cases", json=PHARMACY)
    assert commits == [] and stored_cases() == 0
    db.session.rollback()
    assert get_queue().count == 0


def test_a_post_commits_once(client):
    with counting_commits() as commits:
        assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    assert len(commits) == 1 and stored_cases() == 1


def test_the_queue_page_commits_nothing(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-market"))
    with counting_commits() as commits:
        page = client.get("/staff/")
    assert page.status_code == 200 and case.tracking_no in page.get_data(as_text=True)
    assert commits == []


def test_looking_at_a_complainant_is_the_one_get_that_writes(client, run_jobs, make_user, login):
    case = file_and_route(client, run_jobs)
    login(make_user("yj-market"))
    with counting_commits() as commits:
        assert client.get(f"/staff/cases/{case.id}").status_code == 200
    assert len(commits) == 1
    with db.engine.connect() as conn:
        logged = conn.execute(sa.select(PersonalDataAccess.case_id, PersonalDataAccess.purpose)).all()
    assert logged == [(case.id, "view_case")]


def _python_files():
    for package in ("intake", "routing", "notify"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_only_the_edge_commits():
    committing = [name for name, text in _python_files() if re.search(r"\.commit\(", text) and name not in MAY_COMMIT]
    assert committing == []


def test_no_service_takes_a_commit_flag():
    flagged = [name for name, text in _python_files() if re.search(r"\bcommit(\s*:\s*bool|\s*=[^=])", text)]
    assert flagged == []
