"""The one-trip SQLite cursor: SQLAlchemy sees what the stock aiosqlite adapter gives, in fewer trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from chatkeep.storage.database import Database


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one-trip.db'}")
    async with database.write() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield database
    await database.dispose()


async def test_rows_rowcount_and_lastrowid_as_sqlite_reports_them(db: Database) -> None:
    async with db.write() as session:
        inserted = await session.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": "a"})
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        many = await session.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        assert many.rowcount == 2
        updated = await session.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
    async with db.read() as session:
        rows = (await session.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
        assert (await session.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None
        assert await session.scalar(text("SELECT count(*) FROM t")) == 3


async def test_errors_are_sqlalchemys_and_roll_the_transaction_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
            await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
    with pytest.raises(OperationalError):
        async with db.read() as session:
            await session.execute(text("SELECT nope FROM t"))
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


async def test_a_statement_is_one_trip_to_the_connections_thread(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    async with db.read() as session:  # a pooled connection is open: what follows is statements only
        await session.execute(text("SELECT 1"))
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with db.read() as session:
        await session.execute(text("SELECT 1"))  # BEGIN and this statement: a trip each
        assert trips == ["_run", "_run"]
        trips.clear()
        await session.execute(text("SELECT id, name FROM t WHERE id = :i"), {"i": 1})
        assert trips == ["_run"]  # the stock adapter: cursor, execute, fetchall, close
