"""psycopg's cursor with a description built when it is read, not at every statement.

SQLAlchemy asks for `cursor.description` after every statement, and psycopg builds a `Column` object for each
column of the result then (its name decoded, its type looked up). For a statement SQLAlchemy has seen before it only
checks that the description is not None: it keeps the result's columns with the compiled statement. The case's
read has about 150 columns, and those objects were 7 % of the case page on PostgreSQL (py-spy, in process). Here
the description is a sequence that builds them when something reads it (a statement's first run, a text query),
from the result it describes; None when psycopg's would be None.
"""
from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.pq import ExecStatus

_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _Described:
    """What `psycopg.Column` reads of its cursor, held for one result (the cursor may have moved on since)."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, cursor: psycopg.Cursor, pgresult) -> None:
        self.pgresult = pgresult
        self._encoding = cursor._encoding
        self.adapters = cursor.adapters


class LazyDescription(Sequence):
    """psycopg's `description` (a list of `Column`), built on first use."""

    __slots__ = ("_cursor", "_pgresult", "_columns")

    def __init__(self, cursor: psycopg.Cursor, pgresult) -> None:
        self._cursor, self._pgresult, self._columns = cursor, pgresult, None

    def _built(self) -> list:
        if self._columns is None:
            source = _Described(self._cursor, self._pgresult)
            self._columns = [psycopg.Column(source, i) for i in range(self._pgresult.nfields)]
            self._cursor = None
        return self._columns

    def __len__(self) -> int:
        return self._pgresult.nfields

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __eq__(self, other) -> bool:
        return self._built() == (list(other) if isinstance(other, LazyDescription) else other)

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self._built())


class Cursor(psycopg.Cursor):
    __slots__ = ()

    @property
    def description(self) -> LazyDescription | None:  # type: ignore[override] - a Sequence, as the DB-API asks
        res = self.pgresult
        # psycopg's own condition (a result with columns, or one that said it returns rows: "SELECT ;")
        if res and (res.nfields or res.status in _TUPLES):
            return LazyDescription(self, res)
        return None


def install(connection: psycopg.Connection) -> None:
    """This cursor for `connection`, unless the deployment chose another (e.g. `ClientCursor` behind PgBouncer)."""
    if connection.cursor_factory is psycopg.Cursor:
        connection.cursor_factory = Cursor
