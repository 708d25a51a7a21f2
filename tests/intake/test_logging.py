"""Every log line names what it is about: its request, or its job and the job's case."""

import logging
import re

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case
from intake.config import ConfigError, log_level
from intake.extensions import db
from intake.reference.models import TimeLimitPolicy
from intake.reference.seed import POLICY_EPOCH
from notify.models import Message
from notify.services import send_job_id
from tests.intake.test_api import PHARMACY


@pytest.fixture
def admin_edits_a_policy(client, make_user, login):
    """POST an edit of the seeded tip decision limit; the new row is removed afterwards."""
    login(make_user("admin", Role.ADMIN, kind=None))
    policy = db.session.scalar(
        sa.select(TimeLimitPolicy).filter_by(
            jurisdiction="*", case_kind="tip", urgent=False, clock="decision", effective_from=POLICY_EPOCH
        )
    )
    yield lambda **kw: client.post(
        f"/admin/policies/{policy.id}",
        **kw,
        data={f"policy-{policy.id}-amount": "10", f"policy-{policy.id}-unit": "working_days"},
    )
    db.session.rollback()
    db.session.execute(sa.delete(TimeLimitPolicy).where(TimeLimitPolicy.effective_from > POLICY_EPOCH))
    db.session.commit()


def lines_with(capsys, text: str) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if text in line]


def test_a_request_logs_with_the_proxys_request_id_and_answers_with_it(admin_edits_a_policy, capsys):
    response = admin_edits_a_policy(headers={"X-Request-ID": "lb-7f3a9c"})
    assert response.status_code == 302 and response.headers["X-Request-ID"] == "lb-7f3a9c"
    [line] = lines_with(capsys, "time limit")
    assert " INFO intake.admin.services [req=lb-7f3a9c] time limit " in line and line.endswith(" by admin")


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 200, "[req=someone-else]"])
def test_without_a_sane_id_from_the_proxy_each_request_gets_a_new_one(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    first = client.get("/", headers=headers).headers["X-Request-ID"]
    second = client.get("/", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_jobs_lines_carry_the_job_id_and_the_case_id(app, client, run_jobs, capsys, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SMS_BACKEND", "log")  # sending writes a line to the log
    caplog.set_level(logging.DEBUG, logger="intake")  # "job … done"
    client.post("/api/v1/cases", json=PHARMACY)
    case_id = db.session.scalar(sa.select(Case.id))
    capsys.readouterr()
    run_jobs()
    err = capsys.readouterr().err.splitlines()

    [routed] = [line for line in err if "job route_case done" in line]
    assert f"[job=route-case-{case_id} case={case_id}] " in routed
    messages = db.session.scalars(sa.select(Message).where(Message.case_id == case_id)).all()
    sent = [line for line in err if " notify.backends " in line]
    assert messages and len(sent) == len(messages)
    for message in messages:
        [line] = [line for line in sent if f" to {message.recipient}: " in line]
        assert f"[job={send_job_id(message.id)} case={case_id}] " in line


def test_a_line_outside_requests_and_jobs_says_so(capsys):
    logging.getLogger("intake.test").warning("nothing in particular")
    [line] = lines_with(capsys, "nothing in particular")
    assert line.endswith(" WARNING intake.test [-] nothing in particular")


def test_log_level_is_a_setting_with_a_clear_error(monkeypatch):
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert log_level() == "INFO"
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert log_level() == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        log_level()
