"""The migrated schema is exactly what the models declare (a model change without its migration fails
here), and the stale-turn sweep finds running turns through its partial index, not a scan of every row."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeep.storage.database import Database
from chatkeep.storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_produce_the_models_schema(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_stale_turn_sweep_uses_the_partial_index(db: Database) -> None:
    statement = (
        "SELECT id FROM messages WHERE status = 'in_progress' AND created_at < '2026-01-01'"
        if db.is_sqlite
        else "SELECT id FROM messages WHERE status = 'in_progress' AND created_at < now()"
    )
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            plan = " ".join(
                str(row[-1]) for row in await conn.execute(text("EXPLAIN QUERY PLAN " + statement))
            )
        else:
            # The planner prefers a scan on a small table; forbid it to learn whether the index applies.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in await conn.execute(text("EXPLAIN " + statement)))
    assert "ix_messages_in_progress" in plan, plan
