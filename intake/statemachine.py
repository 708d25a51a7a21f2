"""A table of allowed moves for a thing with a status, and the one place that changes the status.

Each model with states keeps its table next to it, e.g.::

    CALL_STATES = StateTable({"take": ({RINGING}, TAKEN), "file": ({TAKEN}, FILED)})
    CALL_STATES.move(call, "take")                       # in Python, refused if not allowed
    CALL_STATES.update(Call, "take").where(Call.id == 1)  # in SQL, for an atomic claim

A claim that must not lose a race is one conditional UPDATE: `update()` matches only rows in a
state the move starts from, so of two workers or two clicks exactly one changes the row.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa


class MoveError(Exception):
    """The move is not in the table for the thing's current state."""


class StateTable:
    """{move: (states it may start from, state it leads to)} for the attribute `attribute`.

    A state may be None (e.g. a callback not under review): then it is matched as NULL in SQL.
    """

    def __init__(self, moves: Mapping[str, tuple[Iterable[Any], Any]], attribute: str = "status"):
        self.moves = {name: (frozenset(sources), target) for name, (sources, target) in moves.items()}
        self.attribute = attribute

    def _entry(self, name: str) -> tuple[frozenset, Any]:
        try:
            return self.moves[name]
        except KeyError:
            raise MoveError(f"unknown move {name!r}") from None

    def sources(self, name: str) -> frozenset:
        """The states `name` may start from (for a claim's WHERE clause)."""
        return self._entry(name)[0]

    def target(self, name: str) -> Any:
        return self._entry(name)[1]

    def state(self, obj) -> Any:
        return getattr(obj, self.attribute)

    def allows(self, obj, name: str) -> bool:
        return self.state(obj) in self.sources(name)

    def allowed(self, obj) -> set[str]:
        """The moves open to `obj` in its current state."""
        return {name for name, (sources, _to) in self.moves.items() if self.state(obj) in sources}

    def move(self, obj, name: str) -> Any:
        """Make the move on `obj` if the table allows it from its state; returns the state it left."""
        sources, target = self._entry(name)
        before = self.state(obj)
        if before not in sources:
            raise MoveError(f"{type(obj).__name__}: {name!r} is not allowed from {_show(before)}")
        setattr(obj, self.attribute, target)
        return before

    def where(self, column, name: str) -> sa.ColumnElement[bool]:
        """SQL: the row is in a state `name` may start from."""
        sources = self.sources(name)
        known = [s for s in sources if s is not None]
        clause = column.in_(known) if known else sa.false()
        return sa.or_(column.is_(None), clause) if None in sources else clause

    def update(self, model, name: str) -> sa.Update:
        """An UPDATE making the move in SQL on the rows in a state it may start from.

        Add the rows' own conditions with `.where()` and other columns with `.values()`;
        `rowcount` (or RETURNING) then says which rows moved.
        """
        column = getattr(model, self.attribute)
        return (
            sa.update(model)
            .where(self.where(column, name))
            .values({self.attribute: self.target(name)})
            .execution_options(synchronize_session=False)
        )


def _show(state) -> str:
    return repr(getattr(state, "value", state))
