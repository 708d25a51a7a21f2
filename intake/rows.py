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

    def values(self, obj, but: str | None = None) -> dict:
        """The row's bind parameters by column key; `but`: a link left alone (insert_with fills it)."""
        attrs = obj.__dict__
        for rel_key, pairs in self.links:  # event.case = case: the case's id goes in event.case_id
            related = attrs.get(rel_key)
            if related is None or rel_key == but:
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


def insert_with(parent, child, conflict: tuple[str, ...] = ()) -> bool:
    """INSERT a new `parent` and a new `child` whose many-to-one link to it (the event's case_id)
    is filled from the parent's new key, as insert_now would store each, and make both persistent.
    The child needs no link set (its relationship loads lazily by the key afterwards). On PostgreSQL
    in one statement, one round trip:

        WITH parent AS (INSERT … ON CONFLICT (…) DO NOTHING RETURNING id)
        INSERT INTO child (parent_id, …) SELECT parent.id, … FROM parent RETURNING …

    (a parent the conflict refuses gives no row to the SELECT, so neither is stored); elsewhere two
    INSERTs. False, with nothing stored and both left as they were, when `conflict` refuses the parent.
    """
    session = db.session
    pair = _pair_plan(sa.inspect(parent).mapper, sa.inspect(child).mapper, session, conflict)
    if pair.statement is None:
        if not insert_now(parent, conflict):
            return False
        pair.link(child, [getattr(parent, key) for key in pair.parent_keys])
        insert_now(child)
        return True
    with session.no_autoflush:
        row = session.connection().execute(pair.statement, pair.values(parent, child)).first()
        if row is None:
            return False
        parent_row, child_row = pair.split(row)
        _attach(session, pair.parent, parent, parent_row)
        pair.link(child, parent_row)
        _attach(session, pair.child, child, child_row)
    transaction = session().get_transaction()
    for obj in (parent, child):
        sa.inspect(obj).info[_INSERTED_IN] = transaction
    return True


class _PairPlan:
    """insert_with's link between one parent table and one child table, and on PostgreSQL its one
    statement (else `statement` is None), worked out once per process."""

    def __init__(self, parent: _Plan, child: _Plan, rel, parent_mapper, child_mapper, statement_too: bool, conflict):
        self.parent, self.child, self.rel_key = parent, child, rel.key
        pairs = rel.local_remote_pairs
        # event.case_id (the child's attribute) from case.id (the parent's)
        self.child_keys = [child_mapper.get_property_by_column(local).key for local, _remote in pairs]
        self.parent_keys = [parent_mapper.get_property_by_column(remote).key for _local, remote in pairs]
        self.child_sent = [column_key for key, column_key, _default in child.sent if key not in self.child_keys]
        returns_only_the_link = [column.key for _k, column in parent.returned] == [remote.key for _l, remote in pairs]
        self.statement = None
        if statement_too and returns_only_the_link:
            self.statement = self._statement(parent_mapper.local_table, child_mapper.local_table, pairs, conflict)

    def _statement(self, parent_table, child_table, pairs, conflict):
        inserted = (
            postgresql.insert(parent_table)
            .values(
                {
                    parent_table.c[key]: sa.bindparam(f"p_{key}", type_=parent_table.c[key].type)
                    for _attr, key, _default in self.parent.sent
                }
            )
            .on_conflict_do_nothing(index_elements=list(conflict))
            .returning(*[remote for _local, remote in pairs])
            .cte("parent")
        )
        chosen = sa.select(
            *[inserted.c[remote.name] for _local, remote in pairs],
            *[sa.bindparam(f"c_{key}", type_=child_table.c[key].type) for key in self.child_sent],
        )
        return (
            sa.insert(child_table)
            .add_cte(inserted)
            .from_select([local for local, _remote in pairs] + [child_table.c[k] for k in self.child_sent], chosen)
            .returning(*[local for local, _remote in pairs], *[column for _key, column in self.child.returned])
        )

    def values(self, parent, child) -> dict:
        values = {f"p_{column_key}": value for column_key, value in self.parent.values(parent).items()}
        child_values = self.child.values(child, but=self.rel_key)
        values.update({f"c_{column_key}": child_values[column_key] for column_key in self.child_sent})
        return values

    def link(self, child, parent_key_values) -> None:
        for key, value in zip(self.child_keys, parent_key_values, strict=True):
            child.__dict__[key] = value  # as if loaded, like the rest of its row

    def split(self, row) -> tuple:
        """The parent's generated key (as the child's link carries it back) and the child's values."""
        n = len(self.child_keys)
        return tuple(row[:n]), tuple(row[n:])


def _pair_plan(parent_mapper, child_mapper, session, conflict) -> _PairPlan:
    dialect = session.get_bind().dialect.name
    key = ("pair", parent_mapper, child_mapper, dialect, conflict)
    plan = _plans.get(key)
    if plan is None:
        (rel,) = [r for r in child_mapper.relationships if r.direction is MANYTOONE and r.mapper is parent_mapper]
        parent, child = _plan(parent_mapper, session, conflict), _plan(child_mapper, session, ())
        plan = _plans[key] = _PairPlan(
            parent, child, rel, parent_mapper, child_mapper, dialect == "postgresql", conflict
        )
    return plan


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
