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

Each trip also reports whether a transaction is open afterwards, so a rollback of a connection with none
open (a pooled connection handed back after its commit) makes no trip at all; and `run` lets a statement
begin its transaction in the same trip (storage.direct's transactions).
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

# What one statement left behind: description, rows (None without a result set), rowcount, lastrowid,
# and whether a transaction is open after it.
_Outcome = tuple[Any, list[Any] | None, int, int | None, bool]


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, begin: str | None = None
) -> _Outcome:
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


def _run_many(
    connection: sqlite3.Connection, operation: str, parameters: Sequence[Any], begin: str | None = None
) -> _Outcome:
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        cursor.executemany(operation, parameters)
        return cursor.description, None, cursor.rowcount, cursor.lastrowid, connection.in_transaction
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
        connection: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with connection._execute_mutex:
            outcome = await connection.run(_run, operation, parameters)
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with connection._execute_mutex:
            outcome = await connection.run(_run_many, operation, seq_of_parameters)
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid, _ = outcome
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the thread between statements

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        raise NotImplementedError("sqlite3 has no multiple result sets")


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The adapted connection: knows whether a transaction is open, as its last trip left it."""

    __slots__ = ("in_transaction",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self.in_transaction = False

    async def run(self, function: Any, operation: str, parameters: Any, begin: str | None = None) -> _Outcome:
        """One statement (`_run` or `_run_many`) in one trip, after `begin` if given."""
        try:
            outcome: _Outcome = await self._connection._execute(
                function, self._connection._conn, operation, parameters, begin
            )
        except BaseException:
            self.in_transaction = True  # unknown: a rollback must make its trip
            raise
        self.in_transaction = outcome[4]
        return outcome

    async def end(self, *, commit: bool) -> None:
        """Commit or roll back, in one trip if a transaction is open (none otherwise)."""
        if self.in_transaction:
            connection = self._connection
            await (connection.commit() if commit else connection.rollback())
            self.in_transaction = False

    def rollback(self) -> None:
        if self.in_transaction:
            super().rollback()
            self.in_transaction = False

    def commit(self) -> None:
        if self.in_transaction:
            super().commit()
            self.in_transaction = False


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> Any:
    """The DBAPI module to pass as `create_async_engine(..., module=...)` for a `sqlite+aiosqlite` URL."""
    return _OneTripDBAPI(aiosqlite, sqlite3)
