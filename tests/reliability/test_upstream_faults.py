"""Upstream faults through a live chatkeep against the mock upstream, in all three wire forms.

For every fault the client gets a clear error (Quant buffered: JSON with the mapped status; Quant SSE: an
`error` event and then the end of the stream; Waldur NDJSON: an `e` record and then the final `m`), the
partial answer and its usage are stored, and the conversation stays usable for the next turn.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chatkeep.storage.database import Database
from chatkeep.storage.models import UsageRecord
from tests.reliability.conftest import FIRST_TOKEN_TIMEOUT, Figures
from tests.reliability.upstream import MockUpstreamProcess
from tests.reliability.wire import (
    chat,
    chat_stream,
    create_session,
    eventually,
    marker,
    session_messages,
    set_default_model,
    token,
    usage_totals,
)
from tests.support import Tenant

pytestmark = pytest.mark.integration

NORMAL_ANSWER = "w0 w1 w2 w3 w4 "


@dataclass(frozen=True)
class Fault:
    model: str
    status: int
    kind: str
    partial: str  # what the upstream streamed before failing
    attempts: int | None  # requests the upstream must see (None: nothing listens)
    retry_gap: float = 0.0  # the least time between two attempts (backoff, or Retry-After)
    abandoned: bool = False  # chatkeep must hang up on the upstream (it was still sending or silent)


FAULTS = [
    Fault("mock-refused", 502, "unavailable", "", None),
    Fault("mock-hang", 504, "timeout", "", 1, abandoned=True),
    Fault("mock-stall", 504, "timeout", "", 1, abandoned=True),
    # The SDK's exponential backoff starts at 0.5 s less up to 25 % jitter.
    Fault("mock-500", 502, "upstream", "", 3, retry_gap=0.35),
    # The mock answers `Retry-After: 1`, which the SDK honours.
    Fault("mock-429", 429, "rate_limited", "", 3, retry_gap=0.95),
    Fault("mock-malformed", 502, "upstream", "w0 w1 ", 1, abandoned=True),
    # Never retried: tokens had already reached the client.
    Fault("mock-cut", 502, "unavailable", "w0 w1 w2 ", 1),
]


@dataclass(frozen=True)
class QuantOutcome:
    status: int
    error: dict[str, Any]  # the JSON error body (buffered) or the `error` event's data (stream)
    text: str  # the answer, or what was streamed before the error
    retry_after: str | None  # the Retry-After header, or the error event's retryAfterSeconds


async def _quant_turn(
    http: httpx.AsyncClient, tenant: Tenant, form: str, model: str, text: str, session_id: str
) -> QuantOutcome:
    """One Quant turn, buffered or streamed, as the client sees it."""
    if form == "buffered":
        response = await chat(http, tenant, model, text, session_id)
        body = response.json()
        ok = response.status_code == 200
        content = body["response"]["content"] if ok else ""
        return QuantOutcome(
            response.status_code, {} if ok else body, content, response.headers.get("retry-after")
        )
    response, events = await chat_stream(http, tenant, model, text, session_id)
    assert response.status_code == 200, response.text
    names = [name for name, _ in events]
    assert names[0] == "start"
    assert names[-1] in ("done", "error") and names.count("done") + names.count("error") == 1
    streamed = "".join(data["delta"] for name, data in events if name == "content")
    error = events[-1][1] if names[-1] == "error" else {}
    retry_after = error.get("retryAfterSeconds")
    return QuantOutcome(200, error, streamed, None if retry_after is None else str(retry_after))


@pytest.mark.parametrize("fault", FAULTS, ids=[f.model for f in FAULTS])
@pytest.mark.parametrize("form", ["buffered", "stream"])
async def test_quant_turn_survives_upstream_fault(
    http: httpx.AsyncClient,
    tenant: Tenant,
    db: Database,
    mock_upstream: MockUpstreamProcess,
    figures: Figures,
    form: str,
    fault: Fault,
) -> None:
    sid = await create_session(http, tenant)
    word = marker()
    started = time.monotonic()
    outcome = await _quant_turn(http, tenant, form, fault.model, word, sid)
    elapsed = time.monotonic() - started
    assert elapsed < FIRST_TOKEN_TIMEOUT, "the failure must not wait for the server-wide first-token limit"
    if form == "buffered":
        assert outcome.status == fault.status
        assert outcome.error["error"] == fault.kind and outcome.error["message"]
    else:
        assert (outcome.error["code"], outcome.error["status"]) == (fault.kind, fault.status)
        assert outcome.error["error"] and outcome.text == fault.partial
    # The upstream's Retry-After reaches the client after the SDK's retries are spent.
    assert outcome.retry_after == ("1" if fault.kind == "rate_limited" else None)
    await _assert_failed_turn_is_stored(http, tenant, db, sid, word, fault)
    if fault.attempts is not None:
        await _assert_upstream_saw(mock_upstream, word, fault)
    figures.record(f"time to a clear error, {fault.model}", elapsed, "s")
    await _assert_next_turn_succeeds(http, tenant, sid, form)


async def _assert_upstream_saw(mock_upstream: MockUpstreamProcess, word: str, fault: Fault) -> None:
    seen = await mock_upstream.requests(word)
    assert [r["retry_count"] for r in seen] == list(range(fault.attempts or 0)), seen
    gaps = [b["started_at"] - a["started_at"] for a, b in itertools.pairwise(seen)]
    assert all(gap >= fault.retry_gap for gap in gaps), gaps
    if fault.abandoned:

        async def hung_up() -> bool:
            rows = await mock_upstream.requests(word)
            return all(r["disconnected_at"] is not None and r["finished_at"] is None for r in rows)

        await eventually(hung_up, within=2)


async def _assert_failed_turn_is_stored(
    http: httpx.AsyncClient, tenant: Tenant, db: Database, sid: str, word: str, fault: Fault
) -> None:
    messages = await session_messages(http, tenant, sid)
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", word, "complete"),
        ("assistant", fault.partial, "failed"),
    ]
    totals = await usage_totals(http, tenant)
    assert totals["requests"] == 1 and totals["inputTokens"] > 0
    assert (totals["outputTokens"] > 0) == bool(fault.partial)
    async with db.read() as session:
        query = select(UsageRecord.status).where(UsageRecord.conversation_id == uuid.UUID(sid))
        assert list((await session.execute(query)).scalars()) == ["failed"]


async def _assert_next_turn_succeeds(http: httpx.AsyncClient, tenant: Tenant, sid: str, form: str) -> None:
    outcome = await _quant_turn(http, tenant, form, "mock-stream", marker(), sid)
    assert (outcome.status, outcome.error, outcome.text) == (200, {}, NORMAL_ANSWER)
    messages = await session_messages(http, tenant, sid)
    assert [(m["role"], m["status"]) for m in messages][-2:] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert [m["sequenceIndex"] for m in messages] == [1, 2, 3, 4]


async def _waldur_stream(
    http: httpx.AsyncClient, tenant: Tenant, text: str, thread: str | None = None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"input": text}
    if thread is not None:
        body["thread_uuid"] = thread
    response = await http.post("/api/chat/stream/", json=body, headers=token(tenant.member))
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.model for f in FAULTS])
async def test_waldur_stream_survives_upstream_fault(
    http: httpx.AsyncClient, tenant: Tenant, db: Database, mock_upstream: MockUpstreamProcess, fault: Fault
) -> None:
    await set_default_model(http, tenant, fault.model)
    word = marker()
    records = await _waldur_stream(http, tenant, word)
    thread = records[0]["m"]["thread_uuid"]
    errors = [r["e"] for r in records if "e" in r]
    assert len(errors) == 1 and errors[0], records
    assert records[-2] == {"e": errors[0]} and records[-1]["m"]["done"] is True
    assert "".join(r["c"] for r in records if r.get("k") == "markdown") == fault.partial
    await _assert_failed_turn_is_stored(http, tenant, db, thread, word, fault)
    if fault.attempts is not None:
        await _assert_upstream_saw(mock_upstream, word, fault)
    await set_default_model(http, tenant, "mock-stream")
    records = await _waldur_stream(http, tenant, marker(), thread)
    assert not [r for r in records if "e" in r]
    assert "".join(r["c"] for r in records if r.get("k") == "markdown") == NORMAL_ANSWER
    assert records[-1]["m"]["done"] is True


@pytest.mark.parametrize("form", ["buffered", "stream"])
async def test_transient_failure_is_retried_before_any_token(
    http: httpx.AsyncClient, tenant: Tenant, mock_upstream: MockUpstreamProcess, form: str
) -> None:
    sid = await create_session(http, tenant)
    word = marker()
    outcome = await _quant_turn(http, tenant, form, "mock-flaky", word, sid)
    assert (outcome.status, outcome.error, outcome.text) == (200, {}, NORMAL_ANSWER)
    seen = await mock_upstream.requests(word)
    assert [(r["retry_count"], r["status"]) for r in seen] == [(0, 503), (1, 200)]
    messages = await session_messages(http, tenant, sid)
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", word, "complete"),
        ("assistant", NORMAL_ANSWER, "complete"),
    ]
