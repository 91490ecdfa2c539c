"""`chatkeep migrate` is idempotent: twice on a fresh database, and on the suite's live database; and a
replica starting while another migrates waits for it instead of failing. On both backends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from chatkeep.core.api_tokens import authenticate
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import alembic_config, migrate, upgrade_to_head
from chatkeep.storage.models import ApiToken, Conversation, Message, Organisation
from tests.support import Tenant

pytestmark = pytest.mark.integration


async def _migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    """`chatkeep migrate` against `database_url`, as an operator runs it."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "chatkeep", "migrate"],
        env={**os.environ, "CHATKEEP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _describe(connection: Connection) -> dict[str, Any]:
    """Tables with their columns, indexes, unique constraints and foreign keys; and the Alembic revision."""
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            "unique": sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted(str(f["referred_table"]) for f in inspector.get_foreign_keys(table)),
        }
    schema["revision"] = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return schema


async def _schema(database_url: str) -> dict[str, Any]:
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(_describe)
    finally:
        await db.dispose()


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def test_migrate_twice_on_a_fresh_database(fresh_database_url: str) -> None:
    first = await _migrate(fresh_database_url)
    assert first.returncode == 0, first.stdout + first.stderr
    after_first = await _schema(fresh_database_url)
    assert after_first["revision"] == [_head()]
    assert {"organisations", "api_tokens", "conversations", "messages", "usage_records"} <= set(after_first)
    second = await _migrate(fresh_database_url)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "up to date" in second.stdout
    assert await _schema(fresh_database_url) == after_first


async def test_migrate_on_the_suites_live_database(database_url: str, db: Database, tenant: Tenant) -> None:
    """The database every other test uses, already at head and full of rows, comes out unchanged."""
    before = await _schema(database_url)
    counts_before = await _row_counts(db)
    done = await _migrate(database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert await _schema(database_url) == before
    assert await _row_counts(db) == counts_before
    async with db.read() as session:
        assert (await authenticate(session, secret=tenant.admin)).principal.org_name == tenant.name


async def _row_counts(db: Database) -> dict[str, int]:
    counts = {}
    async with db.read() as session:
        for model in (Organisation, ApiToken, Conversation, Message):
            counts[model.__tablename__] = (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
    return counts


async def test_a_replica_starting_while_another_migrates_waits_for_it(fresh_database_url: str) -> None:
    """Deterministic overlap: the first replica has migrated but not committed when the second starts."""
    first, second = Database(fresh_database_url), Database(fresh_database_url)
    try:
        async with first.engine.execution_options(chatkeep_write=True).begin() as conn:
            await conn.run_sync(upgrade_to_head)
            waiting = asyncio.create_task(migrate(second))
            await asyncio.sleep(1.0)  # time to reach the lock; the assertions below do not depend on it
            assert not waiting.done(), "the second migration ran while the first held its lock"
        await asyncio.wait_for(waiting, timeout=30)  # committed: it goes on, finds head, and does nothing
    finally:
        await first.dispose()
        await second.dispose()
    assert (await _schema(fresh_database_url))["revision"] == [_head()]
