"""Alembic environment. chatkeep always hands it an open connection (see chatkeep.storage.migrate)."""

from __future__ import annotations

from alembic import context

from chatkeep.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `chatkeep migrate`, which supplies the database connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
