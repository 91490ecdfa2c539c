"""Transactions on a pooled connection's driver: prepared statements without SQLAlchemy's execution layer.

An ORM session's transaction cost a turn about half a millisecond of CPU before its first statement
(session, connection and transaction objects, events, BEGIN and ROLLBACK each a trip of their own), and
each statement about 0.2 ms more; the driver's own call is a fraction of that. A turn runs four
transactions, so its few statements run here instead (see `Database.direct_read` and `direct_write`).

What stays SQLAlchemy's: the pool (checkout, pre-ping, invalidation, its events and metrics), the
adapted driver connections with their setup (SQLite's pragmas; asyncpg's codecs and prepared statement
cache), and the errors, raised as SQLAlchemy's `DBAPIError`s (a lost connection is invalidated).
What changes: SQLite begins a transaction in the same trip as its first statement, and a read runs
without one (each statement sees what was committed when it began, as PostgreSQL's READ COMMITTED does).
Statements are logged to SQLAlchemy's engine logger as its own execution logs them (SQL at INFO, then
the parameters unless the engine hides them), so turning SQL logging on still shows every statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.util import _repr_params
from sqlalchemy.util import greenlet_spawn

from chatkeep.observability import tracing
from chatkeep.storage.prepared import Prepared, Row
from chatkeep.storage.sqlite_driver import _run, _run_many

_ROWCOUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class DirectTransaction:
    """Prepared statements in one transaction (or, for a read, none) on one pooled connection."""

    def __init__(self, engine: Engine, pooled: Any, *, begin: str | None) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._pooled = pooled
        self._adapted = pooled.dbapi_connection
        self._sqlite = self._dialect.name == "sqlite"
        self._begin = begin  # SQLite: the BEGIN the first statement runs first; PostgreSQL: any BEGIN
        self._begun = False
        self._lost: BaseException | None = None  # set when the connection cannot be trusted any more

    def _adapted_in_transaction(self) -> bool:
        adapted = self._adapted
        return bool(adapted.in_transaction if self._sqlite else adapted._transaction is not None)

    async def fetch(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]:
        """The statement's rows, as tuples of Python values."""
        compiled = statement.compiled(self._dialect)
        rows, _, codes = await self._execute(compiled.sql, compiled.arguments(params or {}))
        return compiled.rows(rows, codes)

    async def first(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    async def run(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement without a result set; returns the rows it changed."""
        compiled = statement.compiled(self._dialect)
        _, rowcount, _ = await self._execute(compiled.sql, compiled.arguments(params or {}))
        return rowcount

    async def run_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once per parameter set (an INSERT of several rows). One row is a plain
        execute, as SQLAlchemy does it: its error then shows that row's parameters in full."""
        compiled = statement.compiled(self._dialect)
        if len(rows) == 1:
            await self._execute(compiled.sql, compiled.arguments(rows[0]))
            return
        arguments = [compiled.arguments(r) for r in rows]
        await self._call(compiled.sql, arguments, many=True)

    async def _execute(self, sql: str, arguments: tuple[Any, ...]) -> tuple[Sequence[Any], int, Any]:
        """(rows, rowcount, the columns' type codes)."""
        return await self._call(sql, arguments, many=False)

    async def _call(self, sql: str, arguments: Any, *, many: bool) -> Any:
        if self._engine._should_log_info():
            self._log(sql, arguments, many=many)
        if tracing.enabled():
            with tracing.statement_span(sql, self._dialect.name):
                return await self._on_driver(sql, arguments, many=many)
        return await self._on_driver(sql, arguments, many=many)

    async def _on_driver(self, sql: str, arguments: Any, *, many: bool) -> Any:
        adapted = self._adapted
        try:
            if self._sqlite:
                begin, self._begin = self._begin, None
                self._begun = self._begun or begin is not None
                outcome = await adapted.run(_run_many if many else _run, sql, arguments, begin)
                return outcome[1] or (), outcome[2], ()
            try:
                if self._begin is not None and adapted._transaction is None:
                    self._begun = True
                    await adapted._start_transaction()
                if many:
                    await adapted._connection.executemany(sql, arguments)
                    return None
                prepared, attributes = await adapted._prepare(sql, 0)
                rows = await prepared.fetch(*arguments)
                counted = _ROWCOUNT.match(prepared.get_statusmsg() or "")
                codes = [a.type.oid for a in attributes] if attributes else ()
                return rows, int(counted.group(1)) if counted else -1, codes
            except Exception as error:
                if isinstance(error, self._dialect.loaded_dbapi.Error):
                    raise
                adapted._handle_exception(error)  # asyncpg's error as the adapted DBAPI's
        except self._dialect.loaded_dbapi.Error as error:
            raise self._wrapped(error, sql, arguments) from error
        except BaseException as error:
            self._lost = error  # cancelled mid-statement, or worse: the connection's state is unknown
            raise

    async def _end(self, *, commit: bool) -> None:
        if not self._begun or self._lost is not None:
            return
        adapted = self._adapted
        what = "COMMIT" if commit else "ROLLBACK"
        try:
            if self._sqlite:
                await adapted.end(commit=commit)
            elif adapted._transaction is not None:
                transaction = adapted._transaction
                try:
                    await adapted._call_and_discard(transaction.commit if commit else transaction.rollback)
                except Exception as error:
                    if isinstance(error, self._dialect.loaded_dbapi.Error):
                        raise
                    adapted._handle_exception(error)
        except self._dialect.loaded_dbapi.Error as error:
            raise self._wrapped(error, what, ()) from error
        except BaseException as error:
            self._lost = error
            raise

    def _log(self, sql: str, arguments: Any, *, many: bool) -> None:
        logger = self._engine.logger
        logger.info(sql)
        if self._engine.hide_parameters:
            logger.info("[direct] [SQL parameters hidden due to hide_parameters=True]")
        else:
            # Shown only when content may be logged (CHATKEEP_LOG_CONTENT): a row whole, not cut at
            # SQLAlchemy's 300 characters, which a message row's ids and flags alone nearly fill.
            logger.info("[direct] %r", _repr_params(arguments, batches=10, max_chars=4096, ismulti=many))

    def _wrapped(self, error: Any, sql: str, arguments: Any) -> sa_exc.StatementError:
        lost = self._dialect.is_disconnect(error, self._adapted, None)
        if lost:
            self._lost = error
        return sa_exc.DBAPIError.instance(
            sql,
            arguments,
            error,
            self._dialect.loaded_dbapi.Error,
            hide_parameters=self._engine.hide_parameters,
            connection_invalidated=lost,
            dialect=self._dialect,
        )

    def _release(self) -> None:
        """Back to the pool (in a greenlet: closing a lost connection awaits the driver)."""
        if self._lost is not None:
            self._pooled.invalidate(self._lost if isinstance(self._lost, Exception) else None)
        self._pooled.close()


@asynccontextmanager
async def transaction(engine: Engine, *, begin: str | None) -> AsyncIterator[DirectTransaction]:
    """A pooled connection for the block, committed at its end and rolled back on an error.

    `begin`: the statement that begins a transaction ("BEGIN IMMEDIATE" for a SQLite writer); None for
    a read, which runs its statements each on its own.
    """
    try:
        pooled = await greenlet_spawn(engine.raw_connection)  # pool events, pre-ping and all
    except engine.dialect.loaded_dbapi.Error as error:
        Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)
    tx = DirectTransaction(engine, pooled, begin=begin)
    try:
        yield tx
        await tx._end(commit=True)
    except BaseException:
        if tx._begun and tx._lost is None:
            # Shielded: the transaction must end here, whatever cancels the block (a client leaving).
            await asyncio.shield(_roll_back(tx))
        raise
    finally:
        if tx._lost is None and not tx._adapted_in_transaction():
            await greenlet_spawn(tx._release)  # nothing to await: returns at once
        else:
            await asyncio.shield(greenlet_spawn(tx._release))


async def _roll_back(tx: DirectTransaction) -> None:
    with contextlib.suppress(Exception):
        await tx._end(commit=False)
