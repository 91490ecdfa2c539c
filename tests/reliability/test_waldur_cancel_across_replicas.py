"""Waldur's thread `cancel`, sent to one replica, stops an answer streaming on another: two `chatkeep serve`
processes sharing PostgreSQL (or SQLite) and Redis, the official client sending the cancel.

The mock upstream sees the model call end soon after (the latency is recorded); the answer keeps what
was streamed and is stored as cancelled, and the stream the user was reading ends with its final record.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.chat_threads import chat_threads_cancel
from waldur_api_client.models import ThreadSessionRequest

from chatkeep.storage.database import Database
from chatkeep.storage.models import Message
from tests.redis_fixtures import redis_prefix, redis_url  # noqa: F401 (fixtures)
from tests.reliability.conftest import Figures, upstream_env
from tests.reliability.upstream import MockUpstreamProcess
from tests.reliability.wire import eventually, marker, set_default_model, token
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.integration

# From sending the cancel to the other replica until the upstream sees the call end: an HTTP request,
# a Redis message and the next model event. Generous, because test machines here are heavily shared;
# the measured latency is printed with the other reliability figures.
CANCEL_WITHIN = 3.0


@pytest.fixture
def replicas(
    database_url: str,
    db: Database,
    models_file: Path,
    redis_url: str,  # noqa: F811 (the fixture imported above)
    redis_prefix: str,  # noqa: F811
    tmp_path: Path,
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = upstream_env(models_file, CHATKEEP_REDIS_URL=redis_url, CHATKEEP_REDIS_KEY_PREFIX=redis_prefix)
    first = LiveServer(database_url, tmp_path / "a.log", extra_env=env)
    try:
        second = LiveServer(database_url, tmp_path / "b.log", extra_env=env)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


async def test_cancel_on_one_replica_stops_the_stream_on_the_other(
    replicas: tuple[LiveServer, LiveServer],
    tenant: Tenant,
    db: Database,
    mock_upstream: MockUpstreamProcess,
    figures: Figures,
) -> None:
    streaming, other = replicas
    async with httpx.AsyncClient(base_url=streaming.url, timeout=30) as http:
        await set_default_model(http, tenant, "mock-slow")  # 400 deltas, one every 50 ms
        word = marker()
        records: list[dict[str, Any]] = []
        async with http.stream(
            "POST", "/api/chat/stream/", json={"input": word}, headers=token(tenant.member)
        ) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            while sum(1 for r in records if r.get("k") == "markdown") < 3:
                records.append(json.loads(await anext(lines)))
            await eventually(lambda: mock_upstream.requests(word))
            thread = uuid.UUID(records[0]["m"]["thread_uuid"])

            client = AuthenticatedClient(base_url=other.url, token=tenant.member, prefix="Token", timeout=10)
            async with client:
                sent_at = time.time()
                cancelled = await chat_threads_cancel.asyncio_detailed(
                    thread, client=client, body=ThreadSessionRequest()
                )
            assert cancelled.status_code == 200
            started = time.monotonic()
            async for line in lines:  # the stream on the first replica ends by itself
                records.append(json.loads(line))
            ended_after = time.monotonic() - started

    assert ended_after < 5
    final = records[-1]["m"]
    assert final["done"] is True
    said = "".join(r["c"] for r in records if r.get("k") == "markdown")
    assert 3 <= len(said.split()) < 400

    async def disconnected() -> list[dict[str, Any]] | None:
        rows = await mock_upstream.requests(word)
        return rows if rows and rows[0]["disconnected_at"] is not None else None

    (record,) = await eventually(disconnected, within=5)
    assert record["finished_at"] is None and record["deltas_sent"] < 400
    latency = float(record["disconnected_at"] - sent_at)
    figures.record("cancel latency at the upstream, Waldur cancel via another replica", latency, "s")
    assert latency < CANCEL_WITHIN

    async def settled() -> Message | None:
        async with db.read() as session:
            row = await session.get(Message, uuid.UUID(final["assistant_message_uuid"]))
        return row if row is not None and row.status != "in_progress" else None

    answer = await eventually(settled)
    assert answer.status == "cancelled" and answer.content == said
