"""Accounting that cannot be bypassed (issue 12, finding 1), against a live server on each backend.

The invariant: every turn that reached the model has exactly one usage row, whatever went wrong — the
model failed, hung, was cut off, the client hung up, or the session's token total was pushed to its cap
by the client itself (a 32-bit total used to overflow there, rolling back the usage row).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select, update

from chatkeep.core.conversations import MAX_TOTAL_TOKENS
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, UsageRecord
from tests.reliability.upstream import MockUpstreamProcess
from tests.reliability.wire import (
    ai,
    bearer,
    chat,
    chat_body,
    chat_stream,
    create_session,
    eventually,
    marker,
)
from tests.support import Tenant, make_tenant

pytestmark = pytest.mark.integration

# Every way a turn may end here: answered, failed upstream (with and without the SDK's retries), cut off,
# silent past the deadline, unreachable.
FAULT_MODELS = [
    "mock-stream",
    "mock-500",
    "mock-flaky",
    "mock-malformed",
    "mock-cut",
    "mock-hang",
    "mock-refused",
]


async def test_a_member_can_raise_its_session_total_past_32_bits_and_turns_still_settle(
    http: httpx.AsyncClient, db: Database
) -> None:
    tenant = await make_tenant(db)
    sid = await create_session(http, tenant, user=tenant.member_user())
    for _ in range(3):  # the attack: three updates of the largest allowed size
        raised = await http.put(
            f"{ai(tenant)}/sessions/{sid}", json={"tokensUsed": 1_000_000_000}, headers=bearer(tenant.member)
        )
        assert raised.status_code == 200, raised.text
    too_much = await http.put(
        f"{ai(tenant)}/sessions/{sid}", json={"tokensUsed": 1_000_000_001}, headers=bearer(tenant.member)
    )
    assert too_much.status_code == 400 and too_much.json()["field"] == "tokensUsed"
    answered = await chat(http, tenant, "mock-stream", marker(), sid)
    assert answered.status_code == 200, answered.text
    session = (await http.get(f"{ai(tenant)}/sessions/{sid}", headers=bearer(tenant.member))).json()
    assert session["totalTokens"] > 3_000_000_000
    assert session["messages"][-1]["status"] == "complete"
    assert await _usage_rows(db, [sid]) == {sid: 1}


async def test_every_upstream_call_has_exactly_one_usage_row(
    http: httpx.AsyncClient, db: Database, mock_upstream: MockUpstreamProcess
) -> None:
    tenant = await make_tenant(db)
    turns: dict[str, str] = {}  # session id → the marker its one turn sent
    jobs = []
    for index, model in enumerate(FAULT_MODELS * 2):
        sid = await create_session(http, tenant)
        word = marker()
        turns[sid] = word
        streamed = index % 2 == 1
        jobs.append(_turn(http, tenant, model, word, sid, streamed=streamed))
    # A session whose total sits at the cap: the settle saturates instead of overflowing.
    capped = await create_session(http, tenant)
    await _set_total(db, capped, MAX_TOTAL_TOKENS - 1)
    turns[capped] = marker()
    jobs.append(_turn(http, tenant, "mock-stream", turns[capped], capped, streamed=True))
    # Clients that hang up mid-stream.
    for _ in range(3):
        sid = await create_session(http, tenant)
        turns[sid] = marker()
        jobs.append(_abandon(http, tenant, turns[sid], sid))
    await asyncio.gather(*jobs)

    async def all_settled() -> dict[str, int] | None:
        rows = await _usage_rows(db, list(turns))
        return rows if len(rows) == len(turns) else None

    rows = await eventually(all_settled, within=30)
    calls = {sid: len(await mock_upstream.requests(word)) for sid, word in turns.items()}
    reached = [sid for sid, n in calls.items() if n]
    assert len(reached) >= len(turns) - 2  # only the unreachable model's turns never reach it
    assert rows == dict.fromkeys(turns, 1), Counter(rows.values())
    async with db.read() as session:
        total = await session.scalar(
            select(Conversation.total_tokens).where(Conversation.id == uuid.UUID(capped))
        )
    assert total == MAX_TOTAL_TOKENS


async def _turn(
    http: httpx.AsyncClient, tenant: Tenant, model: str, word: str, sid: str, *, streamed: bool
) -> None:
    if streamed:
        response, _ = await chat_stream(http, tenant, model, word, sid)
        assert response.status_code == 200
    else:
        response = await chat(http, tenant, model, word, sid)
        assert response.status_code < 500 or response.status_code in (502, 504), response.text


async def _abandon(http: httpx.AsyncClient, tenant: Tenant, word: str, sid: str) -> None:
    async with http.stream(
        "POST",
        f"{ai(tenant)}/chat/stream",
        json=chat_body("mock-slow", word, sid),
        headers=bearer(tenant.service),
    ) as response:
        lines = response.aiter_lines()
        seen = 0
        while seen < 5:
            seen += (await anext(lines)).startswith("event: content")
    # Leaving the block closes the connection mid-answer.


async def _set_total(db: Database, sid: str, total: int) -> None:
    async with db.write() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == uuid.UUID(sid)).values(total_tokens=total)
        )


async def _usage_rows(db: Database, sids: list[str]) -> dict[str, int]:
    ids = [uuid.UUID(s) for s in sids]
    async with db.read() as session:
        rows = await session.execute(
            select(UsageRecord.conversation_id, func.count())
            .where(UsageRecord.conversation_id.in_(ids))
            .group_by(UsageRecord.conversation_id)
        )
        return {str(cid): int(n) for cid, n in rows}
