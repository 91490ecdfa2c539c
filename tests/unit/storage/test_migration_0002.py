"""Migration 0002: the chat_sessions table, backfilled for users who already own conversations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection

from chatkeep.core import chat_sessions
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import alembic_config
from chatkeep.storage.models import CONVERSATIONS, ChatSession, Organisation
from tests.conftest import BACKENDS, POSTGRES_URL, _create_pg_database, _drop_pg_database

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database of each backend, not yet migrated."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
        yield database
        await database.dispose()
        return
    assert POSTGRES_URL
    url, name = await _create_pg_database(POSTGRES_URL)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        await _drop_pg_database(POSTGRES_URL, name)


async def move_to(db: Database, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(connection)
        (command.downgrade if down else command.upgrade)(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_backfills_one_session_per_owner_dated_by_their_first_conversation(
    fresh_db: Database,
) -> None:
    await move_to(fresh_db, "0001")
    org = Organisation(id=uuid.uuid4(), name=f"mig-{uuid.uuid4().hex[:8]}", config={}, created_at=T0)
    owners = [("alice", T0 + timedelta(hours=2)), ("alice", T0), ("bob", T0 + timedelta(days=1))]
    async with fresh_db.write() as session:
        session.add(org)
        await session.flush()
        # Only the columns of revision 0001: the ORM row has columns later migrations add.
        for user, created in owners:
            await session.execute(
                insert(CONVERSATIONS).values(
                    id=uuid.uuid4(),
                    org_id=org.id,
                    user_id=user,
                    metadata={},
                    status="active",
                    archived=False,
                    message_count=0,
                    total_tokens=0,
                    is_flagged=False,
                    max_severity="none",
                    created_at=created,
                    updated_at=created,
                )
            )
    await move_to(fresh_db, "head")
    async with fresh_db.read() as session:
        rows = {r.user_id: r for r in (await session.execute(select(ChatSession))).scalars()}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"].id == chat_sessions.session_id(org.id, "alice")
    assert rows["alice"].user_uuid == chat_sessions.user_uuid(org.id, "alice")
    assert rows["alice"].created_at == T0
    assert rows["bob"].created_at == T0 + timedelta(days=1)


async def test_downgrade_drops_the_table_and_upgrade_restores_it(fresh_db: Database) -> None:
    await move_to(fresh_db, "head")
    assert "chat_sessions" in await tables(fresh_db)
    await move_to(fresh_db, "0001", down=True)
    assert "chat_sessions" not in await tables(fresh_db)
    assert "conversations" in await tables(fresh_db)
    await move_to(fresh_db, "head")
    assert "chat_sessions" in await tables(fresh_db)
