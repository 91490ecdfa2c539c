"""A client that hangs up mid-stream: the upstream call is cancelled within a second (as the mock upstream
sees it), and the partial answer is stored as `cancelled` and accounted.

Two upstreams: one streaming steadily (`mock-slow`), and one that sent its headers and then nothing
(`mock-silent`), where only chatkeep's own disconnect detection can notice the client leaving.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chatkeep.storage.database import Database
from chatkeep.storage.models import UsageRecord
from tests.reliability.conftest import Figures
from tests.reliability.upstream import MockUpstreamProcess
from tests.reliability.wire import (
    ai,
    bearer,
    chat_body,
    create_session,
    eventually,
    marker,
    session_messages,
    set_default_model,
    token,
    usage_totals,
)
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.integration

CANCEL_WITHIN = 1.0
# model → how many lines of which kind the client reads before it hangs up
QUANT_HANG_UP = {
    "mock-slow": (lambda line: line.startswith("data:") and '"delta"' in line, 3),
    "mock-silent": (lambda line: line.startswith("data:"), 1),  # `start`
}
WALDUR_HANG_UP = {
    "mock-slow": (lambda line: '"k":"markdown"' in line, 3),
    "mock-silent": (lambda line: '"thread_uuid"' in line, 1),
}


async def _read_then_hang_up(
    response: httpx.Response,
    hang_up_after: tuple[Callable[[str], bool], int],
    upstream_has: Callable[[], Awaitable[list[dict[str, Any]]]],
) -> tuple[list[str], float]:
    """Read lines until enough of the given kind arrived and the upstream has the request, then close
    the connection (a client leaving before the upstream call even started is another story)."""
    matches, count = hang_up_after
    seen: list[str] = []
    # anext, not a loop we break out of: an abandoned line iterator is finalised in the background, and
    # that closes the connection at a moment we would not know.
    lines = response.aiter_lines()
    while sum(map(matches, seen)) < count:
        seen.append(await anext(lines))
    await eventually(upstream_has)
    hung_up_at = time.time()
    await response.aclose()
    return seen, hung_up_at


async def _assert_cancelled_upstream(
    mock_upstream: MockUpstreamProcess, word: str, hung_up_at: float
) -> float:
    async def disconnected() -> list[dict[str, Any]] | None:
        rows = await mock_upstream.requests(word)
        return rows if rows and rows[0]["disconnected_at"] is not None else None

    (record,) = await eventually(disconnected, within=5)
    latency = float(record["disconnected_at"] - hung_up_at)
    assert latency < CANCEL_WITHIN, f"the upstream call outlived the client by {latency:.3f} s"
    assert record["finished_at"] is None and record["deltas_sent"] < 400
    return latency


async def _assert_cancelled_and_accounted(
    http: httpx.AsyncClient, tenant: Tenant, db: Database, sid: str, word: str, received: str
) -> None:
    async def settled() -> list[dict[str, Any]] | None:
        messages = await session_messages(http, tenant, sid)
        return messages if messages[-1]["status"] != "in_progress" else None

    messages = await eventually(settled)
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "cancelled")]
    assert messages[0]["content"] == word
    # Everything the client saw is stored, and perhaps a little more that was in flight.
    assert messages[1]["content"].startswith(received)
    totals = await usage_totals(http, tenant)
    assert totals["requests"] == 1 and totals["inputTokens"] > 0
    assert (totals["outputTokens"] > 0) == bool(messages[1]["content"])
    async with db.read() as session:
        query = select(UsageRecord.status).where(UsageRecord.conversation_id == uuid.UUID(sid))
        assert list((await session.execute(query)).scalars()) == ["cancelled"]


@pytest.mark.parametrize("model", list(QUANT_HANG_UP))
async def test_quant_sse_client_hangs_up(
    upstream_server: LiveServer,
    http: httpx.AsyncClient,
    tenant: Tenant,
    db: Database,
    mock_upstream: MockUpstreamProcess,
    figures: Figures,
    model: str,
) -> None:
    sid = await create_session(http, tenant)
    word = marker()
    body = chat_body(model, word, sid)
    async with (
        httpx.AsyncClient(base_url=upstream_server.url, timeout=30) as own,
        own.stream(
            "POST", f"{ai(tenant)}/chat/stream", json=body, headers=bearer(tenant.service)
        ) as response,
    ):
        assert response.status_code == 200
        lines, hung_up_at = await _read_then_hang_up(
            response, QUANT_HANG_UP[model], lambda: mock_upstream.requests(word)
        )
    latency = await _assert_cancelled_upstream(mock_upstream, word, hung_up_at)
    figures.record(f"cancel latency at the upstream, Quant SSE, {model}", latency, "s")
    data = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]
    received = "".join(d["delta"] for d in data if "delta" in d)
    assert len(received.split()) == (3 if model == "mock-slow" else 0)
    await _assert_cancelled_and_accounted(http, tenant, db, sid, word, received)


@pytest.mark.parametrize("model", list(WALDUR_HANG_UP))
async def test_waldur_ndjson_client_hangs_up(
    upstream_server: LiveServer,
    http: httpx.AsyncClient,
    tenant: Tenant,
    db: Database,
    mock_upstream: MockUpstreamProcess,
    figures: Figures,
    model: str,
) -> None:
    await set_default_model(http, tenant, model)
    word = marker()
    async with (
        httpx.AsyncClient(base_url=upstream_server.url, timeout=30) as own,
        own.stream(
            "POST", "/api/chat/stream/", json={"input": word}, headers=token(tenant.member)
        ) as response,
    ):
        assert response.status_code == 200
        lines, hung_up_at = await _read_then_hang_up(
            response, WALDUR_HANG_UP[model], lambda: mock_upstream.requests(word)
        )
    latency = await _assert_cancelled_upstream(mock_upstream, word, hung_up_at)
    figures.record(f"cancel latency at the upstream, Waldur NDJSON, {model}", latency, "s")
    records = [json.loads(line) for line in lines]
    received = "".join(r["c"] for r in records if "c" in r)
    assert len(received.split()) == (3 if model == "mock-slow" else 0)
    await _assert_cancelled_and_accounted(http, tenant, db, records[0]["m"]["thread_uuid"], word, received)
