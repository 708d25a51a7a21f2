"""Inserting one new row on the hot paths without the unit of work.

Filing a case inserts three rows (the case, its receipt event, the receipt SMS). Through the ORM's
unit of work each is a flush: attribute history, dependency sorting, a statement built and its cache
key computed anew, then the object refreshed from RETURNING. That was most of a filing's CPU
(benchmarks/RESULTS.md, "Filing a case"). `insert_now(obj)` does the same work with one INSERT per
table compiled once per process: it fills in the columns' Python defaults as a flush would, sends
every column as a bind parameter (so the statement is the same for every row of the table),
RETURNING only what the database generates, and then attaches the object to the session as if it
had been loaded (`make_transient_to_detached` + `add`): no second SELECT, no UPDATE at the commit,
its relationships load lazily as usual.

For single-table mapped classes whose many-to-one relationships are set as objects (event.case =
case) or as foreign-key columns; anything else goes through the session as usual.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
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
        statement = (
            _UPSERT[dialect](table).on_conflict_do_nothing(index_elements=list(conflict))
            if conflict
            else sa.insert(table)
        )
        self.statement = statement.returning(*(column for _key, column in self.returned))

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
    dialect = session.get_bind().dialect.name
    state = sa.inspect(obj)
    plan = _plans.get((state.mapper, dialect, conflict))
    if plan is None:
        plan = _plans[(state.mapper, dialect, conflict)] = _Plan(state.mapper, dialect, conflict)
    values = plan.values(obj)
    if not state.persistent:  # else flushed with a related row that was not stored yet
        with session.no_autoflush:
            if obj in session:  # added already (record() adds its event): out of the unit of work
                session.expunge(obj)
            row = session.execute(plan.statement, values).first()
            if row is None:
                return False
            for (key, _column), value in zip(plan.returned, row):
                obj.__dict__[key] = value
            make_transient_to_detached(obj)
            session.add(obj)
    state.info[_INSERTED_IN] = session().get_transaction()
    return True


def inserted_in_this_transaction(obj) -> bool:
    """`obj` was inserted by insert_now in the session's current transaction (so nothing that
    commits can name it yet, in another transaction)."""
    return sa.inspect(obj).info.get(_INSERTED_IN) is db.session().get_transaction()
