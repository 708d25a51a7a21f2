"""Inserting new rows on the hot paths without the unit of work.

Filing a case inserts three rows (the case, its receipt event, the receipt SMS). Through the ORM's
unit of work each is a flush: attribute history, dependency sorting, a statement built and its cache
key computed anew, then the object refreshed from RETURNING. That was most of a filing's CPU
(benchmarks/RESULTS.md, "Filing a case"). `insert_now(obj)` does the same work with one INSERT per
table compiled once per process: it fills in the columns' Python defaults as a flush would, sends
every column as a bind parameter (so the statement is the same for every row of the table),
RETURNING only what the database generates, and then attaches the object to the session as if it
had been loaded (`make_transient_to_detached` + `add`): no second SELECT, no UPDATE at the commit,
its relationships load lazily as usual. `insert_all(objs)` does it for many rows, one executemany
per table (a dispatch's three clocks and its events, the duty staff's messages), and
`insert_pending(*classes)` for the session's new objects of those classes.

For single-table mapped classes whose many-to-one relationships are set as objects (event.case =
case) or as foreign-key columns; anything else goes through the session as usual.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import MANYTOONE

from intake.extensions import db

_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_plans: dict = {}
_INSERTED_IN = "intake.rows.inserted_in"


class _Plan:
    """What one table's INSERT needs, worked out once per process: the statement, the columns sent
    (attribute key, column key, default), the ones RETURNING gives back and the many-to-one links."""

    def __init__(self, mapper, dialect: str, conflict: tuple[str, ...]):
        table = mapper.local_table
        self.sent, self.returned = [], []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if column.table is not table:
                raise TypeError(f"insert_now: {mapper.class_.__name__} is not a single-table class")
            default = column.default
            if (
                column is table.autoincrement_column
                or (default is None and column.server_default is not None)
                or (default is not None and (default.is_sequence or default.is_clause_element))
            ):
                self.returned.append((prop.key, column))
            else:
                self.sent.append((prop.key, column.key, column.default))
        self.links = [
            (
                rel.key,
                [
                    (mapper.get_property_by_column(local).key, rel.mapper.get_property_by_column(remote).key)
                    for local, remote in rel.local_remote_pairs
                ],
            )
            for rel in mapper.relationships
            if rel.direction is MANYTOONE
        ]
        self.backrefs = {  # clock.case: "clocks", the collection on the case it is appended to
            rel.key: rel.back_populates
            for rel in mapper.relationships
            if rel.direction is MANYTOONE and rel.back_populates
        }
        statement = (
            _UPSERT[dialect](table).on_conflict_do_nothing(index_elements=list(conflict))
            if conflict
            else sa.insert(table)
        )
        returning = [column for _key, column in self.returned]
        # in the parameters' order for executemany (insert_all): one INSERT … SELECT … ORDER BY
        self.statement = (
            statement.returning(*returning)
            if conflict
            else statement.returning(*returning, sort_by_parameter_order=True)
        )

    def values(self, obj) -> dict:
        attrs = obj.__dict__
        for rel_key, pairs in self.links:  # event.case = case: the case's id goes in event.case_id
            related = attrs.get(rel_key)
            if related is None:
                continue
            if any(getattr(related, remote) is None for _local, remote in pairs):
                # the related row is not in the database yet: one flush stores both (through the
                # unit of work, as it would have without insert_now), and nothing is left to do
                db.session.add(obj)
                db.session.flush()
                return {}
            for local, remote in pairs:
                setattr(obj, local, getattr(related, remote))
        values = {}
        for key, column_key, default in self.sent:
            if key not in attrs:  # what a flush would fill in: the column's default, else NULL
                value = None
                if default is not None and default.is_scalar:
                    value = default.arg
                elif default is not None and default.is_callable:
                    value = default.arg(None)
                attrs[key] = value  # as if loaded: make_transient_to_detached keeps no history anyway
            values[column_key] = attrs[key]
        return values


def insert_now(obj, conflict: tuple[str, ...] = ()) -> bool:
    """INSERT `obj` (transient, or pending in the session) at once and make it persistent.

    `conflict`: the unique columns of `ON CONFLICT (…) DO NOTHING`; when the row is refused, False
    is returned and `obj` stays transient (change it and call again). True once inserted. (When a
    many-to-one it names is not stored yet, both go in one flush instead, and a conflict there raises
    IntegrityError as any flush would.)
    """
    session = db.session
    state = sa.inspect(obj)
    plan = _plan(state.mapper, session, conflict)
    values = plan.values(obj)
    if not state.persistent:  # else flushed with a related row that was not stored yet
        with session.no_autoflush:
            row = session.execute(plan.statement, values).first()
            if row is None:
                return False
            _attach(session, plan, obj, row)
    state.info[_INSERTED_IN] = session().get_transaction()
    return True


def insert_all(objs) -> None:
    """INSERT these new objects (transient or pending), one statement per table for all of its rows
    (executemany, RETURNING in the order given), tables in the order they first appear, and make
    them persistent as insert_now does. A loaded collection they were appended to (case.clocks) is
    left as if loaded with them, so the parent has nothing to flush for it."""
    session = db.session
    groups: dict = {}
    for obj in objs:
        groups.setdefault(sa.inspect(obj).mapper, []).append(obj)
    with session.no_autoflush:
        for mapper, group in groups.items():
            plan = _plan(mapper, session, ())
            params = []
            for obj in group:
                values = plan.values(obj)
                if sa.inspect(obj).persistent:  # it names a row not stored yet: a flush stored both
                    session.add_all(group)
                    session.flush()
                    break
                params.append(values)
            else:
                result = session.connection().execute(plan.statement, params if len(params) > 1 else params[0])
                for obj, row in zip(group, result.all(), strict=True):
                    _attach(session, plan, obj, row)
                _settle_collections(group, plan)
            transaction = session().get_transaction()
            for obj in group:
                sa.inspect(obj).info[_INSERTED_IN] = transaction


def insert_pending(*classes) -> None:
    """insert_all the session's new objects of these classes, in the order they were added."""
    session = db.session
    new = [obj for obj in session.new if isinstance(obj, classes)]
    new.sort(key=lambda obj: (classes.index(type(obj)), sa.inspect(obj).insert_order))
    if new:
        insert_all(new)


def _plan(mapper, session, conflict: tuple[str, ...]) -> _Plan:
    dialect = session.get_bind().dialect.name
    plan = _plans.get((mapper, dialect, conflict))
    if plan is None:
        plan = _plans[(mapper, dialect, conflict)] = _Plan(mapper, dialect, conflict)
    return plan


def _attach(session, plan: _Plan, obj, row) -> None:
    """The inserted object into the session as if loaded: generated values set, no history."""
    if obj in session:  # added already (record() adds its event): out of the unit of work
        session.expunge(obj)
    for (key, _column), value in zip(plan.returned, row):
        obj.__dict__[key] = value
    make_transient_to_detached(obj)
    session.add(obj)


def _settle_collections(objs, plan: _Plan) -> None:
    """The parents' loaded collections that only gained these (now stored) objects are set as
    loaded: nothing for the unit of work to sync at the next flush."""
    inserted = set(map(id, objs))
    for rel_key, backref in plan.backrefs.items():
        for parent in {id(p): p for obj in objs if (p := obj.__dict__.get(rel_key)) is not None}.values():
            if backref not in parent.__dict__:
                continue
            history = sa.inspect(parent).attrs[backref].history
            if not history.deleted and all(id(o) in inserted for o in history.added):
                set_committed_value(parent, backref, list(parent.__dict__[backref]))


def inserted_in_this_transaction(obj) -> bool:
    """`obj` was inserted by insert_now in the session's current transaction (so nothing that
    commits can name it yet, in another transaction)."""
    return sa.inspect(obj).info.get(_INSERTED_IN) is db.session().get_transaction()
