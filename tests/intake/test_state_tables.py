"""One table of allowed moves for each thing with states: calls, callbacks, extensions, messages.

Each table refuses a move it does not list, and nothing sets these statuses but the tables.
"""

import ast
import enum
from pathlib import Path

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.callbacks.models import CALLBACK_ANSWERS, CALLBACK_REVIEWS, Answer, Callback, Review
from intake.callbacks.services import answer_by_sms
from intake.callbacks.tasks import sweep_callbacks
from intake.cases.models import EXTENSION_STATES, Case, Extension, ExtensionStatus
from intake.extensions import db
from intake.hotline.models import CALL_STATES, Call, CallStatus
from intake.statemachine import MoveError, StateTable
from notify.backends import MemoryBackend
from notify.models import MESSAGE_STATES, Message, MessageStatus
from notify.tasks import send_message
from tests.intake.test_api import PHARMACY
from tests.intake.test_callbacks import PHONE, replied_case
from tests.intake.test_hotline import CALL, FILING
from tests.routing.test_lifecycle import TIP, routed

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "call": CALL_STATES,
    "extension": EXTENSION_STATES,
    "message": MESSAGE_STATES,
    "callback answer": CALLBACK_ANSWERS,
    "callback review": CALLBACK_REVIEWS,
}


# --- the helper ---------------------------------------------------------------------------------


class Light(enum.Enum):
    RED, GREEN = "red", "green"


class Lamp:
    status = Light.RED


LAMP = StateTable({"go": ({Light.RED}, Light.GREEN), "stop": ({Light.GREEN}, Light.RED)})


def test_a_move_the_table_lists_is_made_and_one_it_does_not_is_refused():
    lamp = Lamp()
    assert LAMP.allowed(lamp) == {"go"}
    assert LAMP.move(lamp, "go") is Light.RED and lamp.status is Light.GREEN
    with pytest.raises(MoveError, match="'go' is not allowed from 'green'"):
        LAMP.move(lamp, "go")
    with pytest.raises(MoveError, match="unknown move"):
        LAMP.move(lamp, "blink")
    assert lamp.status is Light.GREEN


@pytest.mark.parametrize("name", TABLES)
def test_every_table_names_only_members_of_its_enum(name):
    table = TABLES[name]
    states = {s for sources, target in table.moves.values() for s in (*sources, target)} - {None}
    assert len({type(s) for s in states}) == 1


@pytest.mark.parametrize("model, states", [(Call, CallStatus), (Extension, ExtensionStatus), (Message, MessageStatus)])
def test_each_status_column_comment_lists_every_state(model, states):
    comment = model.__table__.c.status.comment
    assert [s.value for s in states if s.value not in comment] == []


# --- hotline calls: ringing → taken → filed or ended ---------------------------------------------


@pytest.fixture
def announce(client, app):
    def do(payload=CALL):
        return client.post(
            "/hotline/calls", json=payload, headers={"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"}
        ).get_json()["id"]

    return do


@pytest.fixture
def on_call(client, announce, make_user, login):
    call_pk = announce()
    login(make_user("lijing", role=Role.OPERATOR, county=None, kind=None))
    assert client.post(f"/hotline/calls/{call_pk}/take").status_code == 200
    return call_pk


def test_a_filed_call_cannot_be_ended_and_the_console_says_so(client, on_call):
    client.post(f"/hotline/calls/{on_call}/file", data=FILING)
    page = client.post(f"/hotline/calls/{on_call}/end", follow_redirects=True).get_data(as_text=True)
    assert "已经处理完毕" in page
    assert db.session.get(Call, on_call).status is CallStatus.FILED


def test_an_ended_call_cannot_be_filed_or_taken_again(client, on_call):
    client.post(f"/hotline/calls/{on_call}/end")
    page = client.post(f"/hotline/calls/{on_call}/file", data=FILING, follow_redirects=True).get_data(as_text=True)
    assert "已经处理完毕" in page and db.session.scalar(sa.select(Case)) is None
    taken = client.post(f"/hotline/calls/{on_call}/take")
    assert taken.status_code == 409 and "已被其他话务员接听" in taken.get_json()["errors"]["call"][0]
    db.session.expire_all()
    assert db.session.get(Call, on_call).status is CallStatus.ENDED


def test_the_call_claim_matches_only_the_states_the_table_starts_from(announce):
    call_pk = announce()
    claim = CALL_STATES.update(Call, "file").where(Call.id == call_pk)
    assert db.session.execute(claim).rowcount == 0  # ringing: not taken yet
    db.session.expire_all()
    assert db.session.get(Call, call_pk).status is CallStatus.RINGING


# --- extension requests: pending → approved or refused -------------------------------------------


@pytest.fixture
def extension(client, run_jobs, make_user, login):
    """A department's pending extension request and a supervisor logged in to decide it."""
    case = routed(client, run_jobs, TIP)
    login(make_user("yj-market"))
    client.post(f"/staff/cases/{case.id}/sign")
    client.post(f"/staff/cases/{case.id}/extension", data={"reason": "需要抽检送检，检验报告尚未出具。"})
    client.post("/logout")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    return db.session.scalar(sa.select(Extension.id))


@pytest.mark.parametrize("first, second", [("approve", "refuse"), ("refuse", "approve"), ("approve", "approve")])
def test_an_extension_already_decided_cannot_be_decided_again_and_the_page_says_so(client, extension, first, second):
    client.post(f"/staff/extensions/{extension}", data={"decision": first, "note": "案情已查明。"})
    db.session.expire_all()
    decided = db.session.get(Extension, extension)
    status, due = decided.status, decided.clock.due_at
    assert status is {"approve": ExtensionStatus.APPROVED, "refuse": ExtensionStatus.REFUSED}[first]

    page = client.post(
        f"/staff/extensions/{extension}", data={"decision": second, "note": "再审一次。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "这份延期申请已经审批过了" in page
    db.session.expire_all()
    again = db.session.get(Extension, extension)
    assert again.status is status and again.clock.due_at == due


# --- callbacks: answered once; 不满意 reviewed once ----------------------------------------------


def test_a_callback_answered_cannot_be_answered_again(client, run_jobs, make_user, login):
    replied_case(client, run_jobs, make_user, login)
    callback = db.session.scalar(sa.select(Callback))
    sweep_callbacks(now=callback.ask_at)
    assert answer_by_sms(PHONE, "3").answer is Answer.DISSATISFIED
    assert answer_by_sms(PHONE, "1") is None  # no survey waits any more
    callback = db.session.scalar(sa.select(Callback))
    with pytest.raises(MoveError):
        CALLBACK_ANSWERS.move(callback, Answer.SATISFIED.value)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Callback.answer)) is Answer.DISSATISFIED


def test_a_dissatisfied_callback_reviewed_cannot_be_reviewed_again_and_the_page_says_so(
    client, run_jobs, make_user, login
):
    replied_case(client, run_jobs, make_user, login)
    callback_id, ask_at = db.session.execute(sa.select(Callback.id, Callback.ask_at)).one()
    sweep_callbacks(now=ask_at)
    answer_by_sms(PHONE, "3")
    login(make_user("chen", role=Role.SUPERVISOR, county="330324", kind=None))
    client.post(f"/staff/callbacks/{callback_id}", data={"decision": "confirm", "reason": "答复属实。"})
    page = client.post(
        f"/staff/callbacks/{callback_id}", data={"decision": "reopen", "reason": "再看看。"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "这件不满意件已经处理过了" in page
    db.session.expire_all()
    assert db.session.get(Callback, callback_id).review is Review.CONFIRMED


# --- outbound messages: queued → sent, failed or suppressed --------------------------------------


def test_a_sent_message_is_not_sent_again_nor_marked_failed(client, run_jobs):
    MemoryBackend.sent.clear()
    assert client.post("/api/v1/cases", json=PHARMACY).status_code == 201
    run_jobs()
    message = db.session.scalar(sa.select(Message).where(Message.template == "web_receipt"))
    assert message.status is MessageStatus.SENT
    sent, message_id = list(MemoryBackend.sent), message.id
    assert send_message(message_id) == "skipped" and MemoryBackend.sent == sent  # one SMS on the phone
    message = db.session.get(Message, message_id)  # the job's commit let go of the objects it saw
    for move in ("fail", "suppress", "send"):
        with pytest.raises(MoveError):
            MESSAGE_STATES.move(message, move)
    assert message.status is MessageStatus.SENT


# --- nothing else sets these statuses ------------------------------------------------------------

STATE_ATTRIBUTES = {"status", "answer", "review"}
# Case.status has its own table and transition() in intake/cases/workflow.py.
ALLOWED = {"intake/statemachine.py", "intake/cases/workflow.py"}


def _status_writes(path: Path) -> list[int]:
    """Lines assigning .status/.answer/.review, or status=… in an UPDATE's values()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in _unpacked(target)]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr in STATE_ATTRIBUTES for t in targets):
            found.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            keys = {k.arg for k in node.keywords}
            keys |= {
                k.value for a in node.args if isinstance(a, ast.Dict) for k in a.keys if isinstance(k, ast.Constant)
            }
            if keys & STATE_ATTRIBUTES:
                found.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in STATE_ATTRIBUTES
        ):
            found.append(node.lineno)
    return sorted(found)


def _unpacked(target: ast.expr) -> list[ast.expr]:
    """`a.status, a.note = …` assigns both; `form.status.choices = …` assigns no status."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for element in target.elts for t in _unpacked(element)]
    return [target]


def test_no_module_sets_a_status_outside_the_state_tables():
    sources = [p for package in ("intake", "notify", "routing") for p in (ROOT / package).rglob("*.py")]
    assert len(sources) > 20
    writes = [
        f"{name}:{line}"
        for p in sources
        if (name := str(p.relative_to(ROOT))) not in ALLOWED
        for line in _status_writes(p)
    ]
    assert writes == []


def test_the_status_check_finds_the_old_ways(tmp_path):
    old = tmp_path / "old_ways.py"
    old.write_text(
        "ext.status = X.APPROVED\nmessage.status, message.last_error = S, why\n"
        "sa.update(Call).values(status=TAKEN)\nq.values({'answer': A})\n"
        "setattr(callback, 'review', R)\nmessage.status == S\nself.status.choices = []\n",
        encoding="utf-8",
    )
    assert _status_writes(old) == [1, 2, 3, 4, 5]
