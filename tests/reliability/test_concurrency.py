"""A thousand turns and appends at once, on one hot conversation and across many others: nothing lost,
one chain per conversation with sequence numbers equal to depth, no deadlock, and never a 500 from
contention (no client-side throttling: the server itself must queue what it cannot run yet)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from chatkeep.storage.database import Database
from tests.fakes import ScriptedProvider
from tests.reliability.conftest import Figures
from tests.reliability.tree_check import assert_linear_and_complete
from tests.reliability.wire import ai, bearer, create_session
from tests.support import Tenant

OPERATIONS = 1000
HOT_SHARE = 200  # operations on the one hot conversation (a 400-message chain); the rest spread out
OTHER_CONVERSATIONS = 80
DEADLINE = 120.0  # a deadlock fails here instead of hanging the run (generous: CI machines are busy)

Call = Callable[[], Awaitable[httpx.Response]]


def _texts(kind: str, sid: str, count: int) -> list[str]:
    return [f"{kind}-{sid[:8]}-{i}" for i in range(count)]


def _calls(http: httpx.AsyncClient, tenant: Tenant, plan: dict[str, int]) -> list[Call]:
    """For each conversation, `plan[sid]` turns and as many appends, interleaved."""
    headers = bearer(tenant.service)

    def turn(sid: str, text: str) -> Call:
        body = {"modelId": "scripted-text", "sessionId": sid, "messages": [{"role": "user", "content": text}]}
        return lambda: http.post(f"{ai(tenant)}/chat", json=body, headers=headers)

    def append(sid: str, text: str) -> Call:
        body = {"newMessages": [{"role": "user", "content": text}, {"role": "assistant", "content": "noted"}]}
        return lambda: http.put(f"{ai(tenant)}/sessions/{sid}", json=body, headers=headers)

    turns = [turn(sid, text) for sid, n in plan.items() for text in _texts("turn", sid, n)]
    appends = [append(sid, text) for sid, n in plan.items() for text in _texts("append", sid, n)]
    return [call for pair in zip(turns, appends, strict=True) for call in pair]


async def test_a_thousand_turns_and_appends_at_once(
    scripted_client: httpx.AsyncClient,
    scripted: ScriptedProvider,
    tenant: Tenant,
    db: Database,
    figures: Figures,
) -> None:
    hot = await create_session(scripted_client, tenant, user="hot")
    others = [
        await create_session(scripted_client, tenant, user=f"u{i % 7}") for i in range(OTHER_CONVERSATIONS)
    ]
    per_other = (OPERATIONS - HOT_SHARE) // OTHER_CONVERSATIONS // 2
    plan = {hot: HOT_SHARE // 2, **dict.fromkeys(others, per_other)}
    calls = _calls(scripted_client, tenant, plan)
    assert len(calls) == OPERATIONS
    started = time.monotonic()
    async with asyncio.timeout(DEADLINE):
        responses = await asyncio.gather(*(call() for call in calls))
    elapsed = time.monotonic() - started
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * OPERATIONS, {s: statuses.count(s) for s in set(statuses)}
    figures.record("1,000 concurrent turns and appends, wall time", elapsed, "s")
    figures.record("1,000 concurrent turns and appends, throughput", OPERATIONS / elapsed, "/s")
    for sid, turns in plan.items():
        texts = _texts("turn", sid, turns) + _texts("append", sid, turns)
        stored = await assert_linear_and_complete(db, uuid.UUID(sid), expected_user_texts=texts, turns=turns)
        assert stored == 4 * turns
