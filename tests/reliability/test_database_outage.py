"""A database outage in the middle of streamed answers (issue 12, finding 3), on PostgreSQL.

The database refuses connections and drops the open ones while two answers stream (Quant SSE and Waldur
NDJSON). Each client gets its dialect's error (an `error` event; an `e` record) and a clean end (the
stream ends normally, Waldur's final `m` record included); once the database is back, both answers are
stored whole with exactly one usage row each.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from chatkeep.storage.models import Message, UsageRecord
from tests.reliability.conftest import upstream_env
from tests.reliability.wire import (
    ai,
    bearer,
    chat,
    chat_body,
    create_session,
    eventually,
    marker,
    parse_sse,
    set_default_model,
    token,
)
from tests.support import LiveServer, make_tenant

pytestmark = pytest.mark.integration

FULL_ANSWER = "".join(f"w{i} " for i in range(60))  # what mock-medium streams, in 3 s


class Outage:
    """Takes a PostgreSQL database away (no new connections, open ones dropped) and brings it back."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.name = parsed.database
        self._admin = {
            "host": parsed.host,
            "port": parsed.port or 5432,
            "user": parsed.username,
            "database": "postgres",
        }

    async def begin(self) -> None:
        conn = await asyncpg.connect(**self._admin)
        try:
            await conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", self.name
            )
        finally:
            await conn.close()

    async def end(self) -> None:
        conn = await asyncpg.connect(**self._admin)
        try:
            await conn.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        finally:
            await conn.close()


async def _lines_until(lines: AsyncIterator[str], wanted: int, prefix: str) -> list[str]:
    seen: list[str] = []
    while sum(line.startswith(prefix) for line in seen) < wanted:
        seen.append(await anext(lines))
    return seen


async def test_an_outage_mid_stream_ends_each_stream_with_its_error_and_loses_nothing(
    fresh_database_url: str, models_file: Path, tmp_path: Path
) -> None:
    if make_url(fresh_database_url).get_backend_name() == "sqlite":
        pytest.skip("SQLite is a file opened by the server itself: it has no outage to survive")
    db = Database(fresh_database_url)
    await migrate(db)
    tenant = await make_tenant(db)
    await db.dispose()
    env = upstream_env(
        models_file,
        CHATKEEP_FIRST_TOKEN_TIMEOUT_SECONDS="20",
        CHATKEEP_PROVIDER_TIMEOUT_SECONDS="60",
        CHATKEEP_DB_POOL_TIMEOUT_SECONDS="2",
    )
    server = await asyncio.to_thread(LiveServer, fresh_database_url, tmp_path / "server.log", env)
    outage = Outage(fresh_database_url)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            sid = await create_session(http, tenant)
            assert (await chat(http, tenant, "mock-stream", marker(), sid)).status_code == 200  # warm
            await set_default_model(http, tenant, "mock-medium")
            quant_body = chat_body("mock-medium", marker(), sid)
            async with (
                http.stream(
                    "POST", f"{ai(tenant)}/chat/stream", json=quant_body, headers=bearer(tenant.service)
                ) as quant,
                http.stream(
                    "POST", "/api/chat/stream/", json={"input": marker()}, headers=token(tenant.admin)
                ) as waldur,
            ):
                quant_lines, waldur_lines = quant.aiter_lines(), waldur.aiter_lines()
                quant_seen = await _lines_until(quant_lines, 5, "event: content")
                waldur_seen = await _lines_until(waldur_lines, 5, '{"k"')
                await outage.begin()
                try:
                    quant_seen += [line async for line in quant_lines]
                    waldur_seen += [line async for line in waldur_lines]
                finally:
                    await outage.end()
        events = parse_sse("\n".join(quant_seen) + "\n\n")
        kinds = [event for event, _ in events]
        assert kinds[-1] == "error" and "done" not in kinds, kinds
        assert events[-1][1]["code"] == "storage_unavailable" and events[-1][1]["status"] == 503
        assert "".join(data["delta"] for event, data in events if event == "content") == FULL_ANSWER
        records = [json.loads(line) for line in waldur_seen if line]
        assert "e" in records[-2] and records[-1]["m"]["done"] is True, records[-3:]
        thread = uuid.UUID(records[0]["m"]["thread_uuid"])
        db = Database(fresh_database_url)
        try:

            async def stored() -> bool:
                return await _answers(db, [uuid.UUID(sid), thread]) == [("complete", FULL_ANSWER)] * 2

            await eventually(stored, within=30)
            assert await _usage_rows(db, [uuid.UUID(sid), thread]) == {uuid.UUID(sid): 2, thread: 1}
        finally:
            await db.dispose()
    finally:
        await outage.end()
        server.stop()


async def _answers(db: Database, conversations: list[uuid.UUID]) -> list[tuple[str, str]]:
    """(status, content) of the newest answer of each conversation."""
    found = []
    async with db.read() as session:
        for conversation in conversations:
            row = (
                await session.execute(
                    select(Message.status, Message.content)
                    .where(Message.conversation_id == conversation, Message.role == "assistant")
                    .order_by(Message.sequence_index.desc())
                    .limit(1)
                )
            ).one()
            found.append((row.status, row.content))
    return found


async def _usage_rows(db: Database, conversations: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    async with db.read() as session:
        rows = await session.execute(
            select(UsageRecord.conversation_id, func.count())
            .where(UsageRecord.conversation_id.in_(conversations))
            .group_by(UsageRecord.conversation_id)
        )
        return {cid: int(n) for cid, n in rows}
