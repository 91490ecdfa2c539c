"""Stopping a running turn on request: in this process, and from another replica through Redis."""

from __future__ import annotations

import asyncio
import uuid

from chatkeep.core.turns import TurnDone, TurnStarted
from chatkeep.core.turns.stopping import RunningTurns
from chatkeep.storage.database import Database
from chatkeep.storage.stop_signals import RedisSignals
from tests.fakes import Script, ScriptedProvider
from tests.redis_fixtures import redis_prefix, redis_url  # noqa: F401 (fixtures)
from tests.unit.core.test_turns import ask, engine_with, new_conversation, principal, stored, usage_rows


async def test_a_stopped_turn_ends_done_and_keeps_what_was_generated_as_cancelled(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider(Script(deltas=["w "] * 500, delay=0.01))
    engine = engine_with(db, provider)
    turn = await engine.open(ask(p, "talk for a long time", conv))
    events = turn.events()
    assert isinstance(await anext(events), TurnStarted)
    for _ in range(3):
        await anext(events)
    assert engine.running.is_running(conv)
    await engine.running.stop(conv)
    rest = [event async for event in events]
    done = rest[-1]
    assert isinstance(done, TurnDone) and done.stopped
    assert len(rest) < 50  # it ended at once, not after the model's 500 pieces
    await asyncio.wait_for(provider.interrupted.wait(), 1)
    answer = (await stored(db, conv))[-1]
    assert answer.status == "cancelled" and answer.content.startswith("w w w")
    (ledger,) = await usage_rows(db, p)
    assert ledger.status == "cancelled" and ledger.output_tokens > 0
    assert not engine.running.is_running(conv)


async def test_stop_interrupts_a_model_that_is_silent(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider(Script(first_delay=30))
    engine = engine_with(db, provider)
    turn = await engine.open(ask(p, "hello?", conv))

    async def consume() -> list[object]:
        return [event async for event in turn.events()]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    await engine.running.stop(conv)
    events = await asyncio.wait_for(task, 2)
    assert isinstance(events[-1], TurnDone) and events[-1].stopped and events[-1].text == ""


class _Stoppable:
    def __init__(self) -> None:
        self.stopped = asyncio.Event()

    def stop(self) -> None:
        self.stopped.set()


async def test_a_stop_reaches_the_replica_running_the_turn_through_redis(
    redis_url: str,  # noqa: F811 (fixture)
    redis_prefix: str,  # noqa: F811 (fixture)
) -> None:
    here, there = (RunningTurns(RedisSignals(redis_url, prefix=redis_prefix)) for _ in range(2))
    await here.start()
    await there.start()
    try:
        conversation, other = uuid.uuid4(), uuid.uuid4()
        running, bystander = _Stoppable(), _Stoppable()
        there.add(conversation, running)  # type: ignore[arg-type]
        there.add(other, bystander)  # type: ignore[arg-type]
        assert not here.is_running(conversation)
        await here.stop(conversation)
        await asyncio.wait_for(running.stopped.wait(), 2)
        assert not bystander.stopped.is_set()
    finally:
        await here.aclose()
        await there.aclose()
