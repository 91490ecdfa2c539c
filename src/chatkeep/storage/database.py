"""The database handle: one async engine, and transactions that are safe on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from chatkeep.storage import direct, pg_ping
from chatkeep.storage.direct import DirectTransaction
from chatkeep.storage.keyed_locks import KeyedLocks
from chatkeep.storage.sqlite_driver import one_trip_dbapi

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """Owns the engine. `read()` gives a plain transaction; `write()` one that holds the write lock from
    its first statement, so read-modify-write sequences (appending to a conversation) never race."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        hide_parameters: bool = True,
        pool_size: int = 5,
        max_overflow: int = 5,
        pool_timeout: float = 30.0,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # SQL parameters hold message content and appear in SQL logs and in every database error's text
        # (which error handlers log), so they are hidden unless CHATKEEP_LOG_CONTENT allows them.
        # On PostgreSQL every process (and every replica) holds up to pool_size + max_overflow connections,
        # all counted against the server's max_connections (100 by default): keep the pool small and size
        # it in settings. A request that waits pool_timeout for a connection gets 503.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": hide_parameters}
        if self.url.database not in (None, "", ":memory:"):  # an in-memory SQLite has a single connection
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout)
        if self.is_sqlite:
            _ensure_sqlite_dir(self.url.database)
            if self.url.get_driver_name() == "aiosqlite":
                kwargs["module"] = one_trip_dbapi()
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        elif self.url.get_driver_name() == "asyncpg":
            pg_ping.install(self.engine)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(chatkeep_write=True), expire_on_commit=False
        )
        # SQLite admits one writer at a time. This process's writers queue here, first come first served,
        # instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms and lets late
        # arrivals win: under concurrent turns that is where the p99 latency went. Writers in other
        # processes (several workers) still meet the busy timeout.
        self._write_queue = asyncio.Lock() if self.is_sqlite else None
        self._row_queues = KeyedLocks()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; rolled back at the end."""
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self, *, serialize: Hashable | None = None) -> AsyncIterator[AsyncSession]:
        """A transaction committed on success and rolled back on error.

        `serialize` names the row the transaction locks for update (a conversation id). On PostgreSQL this
        process's writers to that row queue in memory first: a burst of turns on one conversation then
        waits without holding pooled connections, which, all blocked on the same row lock, used to starve
        every other request into pool timeouts. (SQLite's write queue already serialises all writers.)
        """
        if self._write_queue is None:
            async with self._row_queues.hold(serialize), self._writer() as session, session.begin():
                yield session
            return
        async with self._write_queue, self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def direct_read(self) -> AsyncIterator[DirectTransaction]:
        """Prepared statements on the driver, each on its own (no transaction): for reads whose statements
        need not see one snapshot. See storage.direct."""
        async with direct.transaction(self.engine.sync_engine, begin=None) as tx:
            yield tx

    @asynccontextmanager
    async def direct_write(self, *, serialize: Hashable | None = None) -> AsyncIterator[DirectTransaction]:
        """`write()` for prepared statements on the driver: the same write lock and queues, committed on
        success and rolled back on error. See storage.direct."""
        engine = self.engine.sync_engine
        if self._write_queue is None:
            async with self._row_queues.hold(serialize), direct.transaction(engine, begin="BEGIN") as tx:
                yield tx
            return
        async with self._write_queue, direct.transaction(engine, begin="BEGIN IMMEDIATE") as tx:
            yield tx

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(database: str | None) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; BEGIN IMMEDIATE for writers.

    pysqlite's own transaction handling starts transactions late and never for SELECT, which lets two
    writers read the same conversation leaf. We take control of BEGIN instead (SQLAlchemy's documented
    recipe) so a writer holds the database write lock before it reads anything.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("chatkeep_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
