"""SQLAlchemy's aiosqlite adapter with one trip to the connection's thread per statement, not four.

aiosqlite runs each sqlite3 call in the connection's own thread, and SQLAlchemy's adapter makes four such
calls per statement (open a cursor, execute, fetch, close it). Each trip is a queue put, a thread wake-up,
a GIL hand-over and a loop wake-up through `call_soon_threadsafe`; a stored turn made about seventy of
them, most of the CPU its SQLite work cost. Here a statement runs whole in one trip (a plain sqlite3
cursor, opened, executed, read and closed in the thread) and the adapter keeps the results. Everything
else (connections, transactions, errors, the event hooks) is SQLAlchemy's aiosqlite dialect unchanged;
this only changes the cursor, through the `module` argument `create_async_engine` offers for it.

It leans on what SQLAlchemy's own adapter already uses of aiosqlite: `Connection._execute` (run a
function in the connection's thread) and `Connection._conn` (the sqlite3 connection, touched only there).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

# What one statement left behind: description, rows (None without a result set), rowcount, lastrowid.
_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds no aiosqlite cursor: each statement is one function run in the thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened: nothing to await
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(_run, self._connection._conn, operation, parameters)
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(
                _run_many, self._connection._conn, operation, seq_of_parameters
            )
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the thread between statements

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        raise NotImplementedError("sqlite3 has no multiple result sets")


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> Any:
    """The DBAPI module to pass as `create_async_engine(..., module=...)` for a `sqlite+aiosqlite` URL."""
    return _OneTripDBAPI(aiosqlite, sqlite3)
