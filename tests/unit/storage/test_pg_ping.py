"""The PostgreSQL pool's pre-ping: one round trip, and a dropped connection still replaced on checkout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatkeep.storage.database import Database
from tests.conftest import POSTGRES_URL, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only: set CHATKEEP_TEST_POSTGRES")


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    assert POSTGRES_URL
    url, name = await _create_pg_database(POSTGRES_URL)
    database = Database(url, pool_size=1, max_overflow=0)
    try:
        yield database
    finally:
        await database.dispose()
        await _drop_pg_database(POSTGRES_URL, name)


async def _backend_pid(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_checkout_pings_with_one_simple_query(pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await _backend_pid(pg)  # the pool now holds a connection, pinged on the next checkout
    sent: list[tuple[str, Any]] = []
    real_execute, real_transaction = asyncpg.Connection.execute, asyncpg.Connection.transaction

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> str:
        sent.append(("execute", query))
        return await real_execute(self, query, *args, **kwargs)

    def transaction(self: asyncpg.Connection, **kwargs: Any) -> Any:
        sent.append(("transaction", None))
        return real_transaction(self, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    monkeypatch.setattr(asyncpg.Connection, "transaction", transaction)
    async with pg.direct_read() as tx:
        assert tx is not None
    assert sent == [("execute", "SELECT 1")]


async def test_a_connection_the_server_dropped_is_replaced_on_checkout(pg: Database) -> None:
    before = await _backend_pid(pg)
    url = make_url(pg.engine.url.render_as_string(hide_password=False))
    admin = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database="postgres"
    )
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
    finally:
        await admin.close()
    after = await _backend_pid(pg)  # no error: the ping found the connection dead and the pool reconnected
    assert after != before
