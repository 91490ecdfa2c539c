"""Apply Alembic migrations programmatically, safely when several replicas start at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeep.storage.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# An arbitrary constant: PostgreSQL advisory lock key serialising concurrent `migrate` runs.
_PG_MIGRATION_LOCK = 0x63686B70


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Upgrade the schema on `connection`, whose transaction holds the migration lock until it ends:
    on PostgreSQL an advisory lock taken here, on SQLite the write lock of its BEGIN IMMEDIATE."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "head")


async def migrate(db: Database) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Replicas starting together take turns. On SQLite the transaction begins IMMEDIATE (the `chatkeep_write`
    option): a deferred one would read the old schema, then fail with "database is locked" when it tried
    to write after another replica had committed its migration.
    """
    async with db.engine.execution_options(chatkeep_write=True).begin() as conn:
        await conn.run_sync(upgrade_to_head)
