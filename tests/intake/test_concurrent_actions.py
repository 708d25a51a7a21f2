"""Two members of staff acting on one case at the same moment are served one after the other: the
second sees the case as the first left it, and the state table refuses the move (PostgreSQL's row
lock; SQLite, the fallback, lets one writer in at a time anyway)."""

import os
import threading

import pytest
import sqlalchemy as sa

from intake.cases.models import Case, CaseEvent, CaseStatus, Extension, ExtensionStatus
from intake.extensions import db
from tests.intake.test_queue import file_and_route
from tests.intake.test_state_tables import extension  # noqa: F401  (a pending request, a supervisor logged in)

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs DATABASE_URL pointing at PostgreSQL (run by .ci/run): the race is PostgreSQL's",
)


def while_a_colleague_acts(case_id: int, colleague, post):
    """`post()` (this browser's request) while another transaction, which holds the case as a
    colleague's request would, makes `colleague(connection)`'s change and then commits; its page."""
    with db.engine.connect() as other:
        tx = other.begin()
        other.execute(sa.select(Case.id).where(Case.id == case_id).with_for_update())
        colleague(other)
        answered = {}
        request = threading.Thread(target=lambda: answered.update(page=post()))
        request.start()
        request.join(timeout=1.5)
        assert request.is_alive()  # this browser's request waits for the colleague's to finish
        tx.commit()
    request.join(timeout=20)
    assert not request.is_alive()
    assert answered["page"].status_code == 200
    return answered["page"].get_data(as_text=True)


def test_a_second_sign_for_while_the_first_is_in_flight_is_refused(client, run_jobs, make_user, login):
    case_id = file_and_route(client, run_jobs).id
    login(make_user("yj-market"))  # the second member of staff, in this browser

    page = while_a_colleague_acts(
        case_id,
        lambda other: other.execute(sa.update(Case).where(Case.id == case_id).values(status=CaseStatus.SIGNED)),
        lambda: client.post(f"/staff/cases/{case_id}/sign", follow_redirects=True),
    )
    assert "案件状态已经改变，请刷新后再试" in page
    db.session.expire_all()
    signs = db.session.scalars(sa.select(CaseEvent).filter_by(case_id=case_id, action="sign")).all()
    assert signs == []  # the colleague's move stands alone: none recorded on top of it
    assert db.session.get(Case, case_id).status is CaseStatus.SIGNED


def test_a_second_decision_on_an_extension_while_the_first_is_in_flight_is_refused(client, extension):  # noqa: F811
    ext = db.session.get(Extension, extension)
    case_id, due = ext.case_id, ext.clock.due_at

    def colleague_refuses(other):
        other.execute(sa.update(Extension).where(Extension.id == extension).values(status=ExtensionStatus.REFUSED))

    page = while_a_colleague_acts(
        case_id,
        colleague_refuses,
        lambda: client.post(
            f"/staff/extensions/{extension}", data={"decision": "approve", "note": ""}, follow_redirects=True
        ),
    )
    assert "这份延期申请已经审批过了" in page
    db.session.expire_all()
    ext = db.session.get(Extension, extension)
    assert ext.status is ExtensionStatus.REFUSED and ext.clock.due_at == due  # the deadline did not move
