"""psycopg's cursor, its result's columns described when read, not on every statement.

SQLAlchemy asks the cursor for its `description` after every statement, and reads what it
says only the first time a statement runs (its compiled form then keeps the result's layout).
psycopg makes a `Column` object per column on each ask, 1.7 µs each: 80 µs of a rendered
« Commandes » (bench/RESULTS.md), for objects no one reads. Here `description` is a sequence
that makes psycopg's own columns the first time it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import psycopg
from psycopg import Column
from psycopg.pq.abc import PGresult


class DescribedWhenReadCursor(psycopg.Cursor[Any]):
    """The engine's cursors (`cursor_factory`, database.init_app)."""

    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]  # a sequence, as the DB-API says
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description  # psycopg's own answer for a result without columns
        return _Columns(self, result)


class _Columns(Sequence[Column]):
    def __init__(self, cursor: psycopg.Cursor[Any], result: PGresult) -> None:
        self._cursor, self._result, self._count = cursor, result, result.nfields
        self._columns: list[Column] | None = None

    def _made(self) -> list[Column]:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:
                # psycopg's columns describe the cursor's current result: read after the next
                # statement, they would describe that one.
                raise psycopg.InterfaceError("the cursor has moved on to another result")
            self._columns = psycopg.Cursor.description.fget(self._cursor)  # type: ignore[attr-defined]
        assert self._columns is not None
        return self._columns

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | Sequence[Column]:
        return self._made()[index]

    def __repr__(self) -> str:
        return repr(self._made())
