"""intake.rows.insert_now: a row inserted without the unit of work is the row a flush would have
stored, and the object is in the session as if loaded (nothing more is written at the commit)."""

import sqlalchemy as sa

from intake.cases.events import new_event
from intake.cases.models import Case, CaseEvent, CaseKind, CaseStatus, Channel
from intake.extensions import db
from intake.rows import insert_all, insert_now, insert_pending, insert_with, inserted_in_this_transaction
from notify.models import Message, MessageStatus

from .test_filing_cost import Counted


def _case(tracking_no: str) -> Case:
    return Case(
        tracking_no=tracking_no,
        lookup_code_hash="h",
        kind=CaseKind.COMPLAINT,
        channel=Channel.API,
        description="买的药过期了，店员不肯退。",
    )


def test_the_row_has_the_defaults_a_flush_would_give_and_the_commit_writes_nothing_more(app, monkeypatch):
    flushed, direct = _case("2612010000011"), _case("2612010000029")
    db.session.add(flushed)
    db.session.flush()
    assert insert_now(direct) is True
    assert direct.id is not None and direct.id != flushed.id
    counted = Counted(monkeypatch)
    try:
        db.session.commit()
    finally:
        counted.stop()
    assert [s for s in counted.sql if s not in ("COMMIT", "BEGIN")] == []  # no UPDATE, no INSERT again
    columns = [c for c in Case.__table__.columns if c.name not in ("id", "tracking_no", "received_at", "updated_at")]
    rows = {
        r.tracking_no: r
        for r in db.session.execute(sa.select(Case.__table__).where(Case.id.in_([flushed.id, direct.id])))
    }
    for column in columns:
        assert rows["2612010000029"]._mapping[column] == rows["2612010000011"]._mapping[column], column.name
    assert rows["2612010000029"].status is CaseStatus.RECEIVED and rows["2612010000029"].received_at is not None


def test_a_taken_unique_value_is_refused_and_the_object_can_be_tried_again(app):
    assert insert_now(_case("2612010000037"), conflict=("tracking_no",))
    again = _case("2612010000037")
    assert insert_now(again, conflict=("tracking_no",)) is False
    assert again.id is None and again not in db.session
    again.tracking_no = "2612010000045"
    assert insert_now(again, conflict=("tracking_no",)) is True
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 2


def test_a_link_set_as_an_object_fills_the_foreign_key_and_the_loaded_relation_works(app):
    case = _case("2612010000052")
    db.session.add(case)  # pending: insert_now flushes it first, for its id
    event = CaseEvent(case=case, actor_label="市民", action="receive", data={"channel": "api"})
    assert insert_now(event)
    assert event.case_id == case.id and inserted_in_this_transaction(event)
    message = Message(
        case_id=case.id, channel="sms", recipient="+8613812345678", template="t", body="b", idempotency_key="k"
    )
    assert insert_now(message)
    assert message.status is MessageStatus.QUEUED and message.attempts == 0 and message.created_at is not None
    db.session.commit()
    assert not inserted_in_this_transaction(event)  # a new transaction
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert [e.action for e in stored.events] == ["receive"] and stored.events[0].data == {"channel": "api"}


def test_many_rows_go_in_one_insert_per_table_in_their_order_and_the_commit_writes_nothing_more(app, monkeypatch):
    case = _case("2612010000060")
    insert_now(case)
    assert case.events == []  # loaded: the new events are appended to it, as a flush would leave it
    events = [CaseEvent(case=case, actor_label="系统", action=a) for a in ("route", "flag_duplicate", "note")]
    messages = [
        Message(case_id=case.id, channel="sms", recipient=f"+86139000000{i}", template="t", body="b", idempotency_key=k)
        for i, k in enumerate(("k1", "k2"))
    ]
    db.session.add(events[0])  # pending or transient alike
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()[:3]))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        insert_all([*events, *messages])
        # case.events has them as if loaded with them: nothing in it for the unit of work to sync
        assert case.events == events and not sa.inspect(case).attrs.events.history.has_changes()
        during = list(statements)
        statements.clear()
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert statements == []  # nothing left for the unit of work: not case.events
    tables = [s.split()[2].strip('"') for s in during]
    assert sorted(set(tables), key=tables.index) == ["case_event", "message"]
    if db.engine.dialect.name == "postgresql":  # SQLite's driver takes the rows one by one
        assert tables == ["case_event", "message"]
    assert all(inserted_in_this_transaction(m) is False for m in messages)  # committed since
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3  # in the order given
    db.session.expire_all()
    assert [e.action for e in db.session.get(Case, case.id).events] == ["route", "flag_duplicate", "note"]
    assert [m.status for m in db.session.scalars(sa.select(Message).order_by(Message.id))] == [MessageStatus.QUEUED] * 2


def test_insert_pending_writes_the_sessions_new_rows_of_those_classes_only(app):
    case = _case("2612010000078")
    insert_now(case)
    event = CaseEvent(case_id=case.id, actor_label="系统", action="note")
    message = Message(
        case_id=case.id, channel="sms", recipient="+8613900000009", template="t", body="b", idempotency_key="k9"
    )
    db.session.add_all([event, message])
    insert_pending(CaseEvent)
    assert event.id is not None and sa.inspect(event).persistent
    assert message.id is None and message in db.session.new  # left to the next flush
    db.session.commit()
    assert message.id is not None


def _filed(tracking_no: str) -> tuple[Case, CaseEvent]:
    case = _case(tracking_no)
    event = new_event("receive", "市民", data={"channel": "api"})  # no link: insert_with fills case_id
    return case, event


def test_a_case_and_its_event_go_in_one_statement_where_the_database_can_and_nothing_is_left_to_write(app, monkeypatch):
    case, event = _filed("2612010000086")
    counted = Counted(monkeypatch)
    try:
        assert insert_with(case, event, conflict=("tracking_no",)) is True
        during = list(counted.sql)
        counted.sql.clear()
        db.session.commit()
    finally:
        counted.stop()
    assert during == (["WITH"] if db.engine.dialect.name == "postgresql" else ["INSERT", "INSERT"])
    assert [s for s in counted.sql if s not in ("COMMIT", "BEGIN")] == []  # no UPDATE, no INSERT again
    assert event.case_id == case.id and case.id is not None and event.id is not None
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert stored.tracking_no == "2612010000086" and stored.status is CaseStatus.RECEIVED
    assert [(e.action, e.actor_label, e.data, e.public) for e in stored.events] == [
        ("receive", "市民", {"channel": "api"}, True)
    ]
    assert stored.events[0].at is not None


def test_a_case_whose_number_is_taken_stores_no_event_either_and_can_be_tried_again(app):
    first, first_event = _filed("2612010000094")
    assert insert_with(first, first_event, conflict=("tracking_no",))
    case, event = _filed("2612010000094")
    assert insert_with(case, event, conflict=("tracking_no",)) is False
    assert case.id is None and event.id is None
    case.tracking_no = "2612010000102"
    assert insert_with(case, event, conflict=("tracking_no",)) is True
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(CaseEvent.id))) == 2  # the refused try left no event
    assert db.session.get(CaseEvent, event.id).case_id == case.id
