"""The turn engine with a scripted provider: storage, usage, modes, failures, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from chatkeep.core import conversations, organisations
from chatkeep.core.context import fit_to_window
from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.core.turns import (
    TurnDone,
    TurnEngine,
    TurnFailed,
    TurnOptions,
    TurnRequest,
    TurnStarted,
    turn_scope,
)
from chatkeep.providers.base import ChatMessage, ModelInfo, Pricing, ProviderError, TextDelta
from chatkeep.providers.registry import ModelRegistry
from chatkeep.storage.database import Database
from chatkeep.storage.models import Message, UsageRecord
from tests.fakes import Script, ScriptedProvider

MODEL = ModelInfo(
    id="scripted-1",
    provider="scripted",
    upstream_model="scripted-upstream",
    context_window=2048,
    max_output_tokens=256,
    pricing=Pricing(input_per_m=1_000_000, output_per_m=2_000_000),  # 1 and 2 dollars per token: easy sums
)


def engine_with(db: Database, provider: ScriptedProvider, **kwargs: float) -> TurnEngine:
    registry = ModelRegistry(models=[MODEL], providers={"scripted": provider})
    return TurnEngine(db, registry, **kwargs)


async def principal(db: Database) -> Principal:
    async with db.write() as session:
        org = await organisations.create(session, name=f"turn-{uuid.uuid4().hex[:10]}")
    return Principal(org_id=org.id, org_name=org.name, user_id="svc", role=Role.SERVICE)


async def new_conversation(db: Database, p: Principal) -> uuid.UUID:
    async with db.write() as session:
        return (await conversations.create(session, principal=p, user_id="alice")).id


def ask(p: Principal, text: str, conversation_id: uuid.UUID | None = None, **kwargs: object) -> TurnRequest:
    return TurnRequest(
        principal=p, messages=(ChatMessage.of_text("user", text),), conversation_id=conversation_id, **kwargs
    )


async def run(engine: TurnEngine, request: TurnRequest) -> list[object]:
    async with await engine.open(request) as turn:
        return [event async for event in turn.events()]


async def stored(db: Database, conversation_id: uuid.UUID) -> list[Message]:
    async with db.read() as session:
        rows = await session.execute(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at)
        )
        return list(rows.scalars())


async def usage_rows(db: Database, p: Principal) -> list[UsageRecord]:
    async with db.read() as session:
        return list(
            (await session.execute(select(UsageRecord).where(UsageRecord.org_id == p.org_id))).scalars()
        )


async def test_turn_streams_and_stores_answer_with_usage(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider()
    events = await run(engine_with(db, provider), ask(p, "Hi there", conv))
    assert isinstance(events[0], TurnStarted)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello, world."
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert (done.input_tokens, done.output_tokens, done.finish_reason) == (11, 3, "stop")
    assert done.cost_cents == pytest.approx((11 * 1 + 3 * 2) * 100)
    rows = await stored(db, conv)
    assert [(m.role, m.content, m.status) for m in rows] == [
        ("user", "Hi there", "complete"),
        ("assistant", "Hello, world.", "complete"),
    ]
    assert rows[1].parent_id == rows[0].id and rows[1].output_tokens == 3
    (ledger,) = await usage_rows(db, p)
    assert (ledger.user_id, ledger.model, ledger.input_tokens, ledger.output_tokens) == (
        "alice",
        "scripted-1",
        11,
        3,
    )
    assert ledger.conversation_id == conv and ledger.status == "complete"
    assert provider.requests[0].messages[-1].text == "Hi there"


async def test_session_history_is_the_context_of_the_next_turn(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider()
    engine = engine_with(db, provider)
    await run(engine, ask(p, "first", conv))
    await run(engine, ask(p, "second", conv, options=TurnOptions(system_prompt="Be brief.")))
    sent = provider.requests[-1]
    assert [(m.role, m.text) for m in sent.messages] == [
        ("user", "first"),
        ("assistant", "Hello, world."),
        ("user", "second"),
    ]
    assert sent.system == "Be brief."


async def test_stateless_turn_stores_only_usage(db: Database) -> None:
    p = await principal(db)
    history = (
        ChatMessage.of_text("system", "sys"),
        ChatMessage.of_text("user", "a"),
        ChatMessage.of_text("assistant", "b"),
        ChatMessage.of_text("user", "c"),
    )
    provider = ScriptedProvider()
    events = await run(engine_with(db, provider), TurnRequest(principal=p, messages=history))
    assert isinstance(events[-1], TurnDone)
    assert [m.text for m in provider.requests[0].messages] == ["a", "b", "c"]
    assert provider.requests[0].system == "sys"
    (ledger,) = await usage_rows(db, p)
    assert ledger.conversation_id is None and ledger.user_id == "svc"


async def test_provider_error_mid_stream_keeps_partial_answer_and_conversation_usable(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    failing = ScriptedProvider(Script(deltas=["part", "ial", "never"], fail_after=2, usage=None))
    events = await run(engine_with(db, failing), ask(p, "go", conv))
    failure = events[-1]
    assert isinstance(failure, TurnFailed) and failure.kind == "upstream"
    rows = await stored(db, conv)
    assert (rows[-1].content, rows[-1].status) == ("partial", "failed")
    assert rows[-1].output_tokens and rows[-1].output_tokens > 0  # counted locally
    (ledger,) = await usage_rows(db, p)
    assert ledger.status == "failed" and ledger.output_tokens == rows[-1].output_tokens
    again = await run(engine_with(db, ScriptedProvider()), ask(p, "retry", conv))
    assert isinstance(again[-1], TurnDone)


async def test_first_token_timeout_fails_the_turn(db: Database) -> None:
    p = await principal(db)
    slow = ScriptedProvider(Script(first_delay=5))
    events = await run(engine_with(db, slow, first_token_timeout=0.2), ask(p, "hello?"))
    failure = events[-1]
    assert isinstance(failure, TurnFailed) and failure.kind == "timeout"
    await asyncio.wait_for(slow.interrupted.wait(), 1)


class SelfTimedProvider(ScriptedProvider):
    """A provider that says it enforces the deadlines itself (as every built-in one does)."""

    applies_deadlines = True


async def test_a_provider_applying_its_own_deadlines_gets_no_second_timer(db: Database) -> None:
    p = await principal(db)
    slow = SelfTimedProvider(Script(first_delay=0.4))
    events = await run(engine_with(db, slow, first_token_timeout=0.1), ask(p, "hello?"))
    assert isinstance(events[-1], TurnDone)  # the engine's 0.1 s limit was left to the provider
    timed = ScriptedProvider(Script(first_delay=0.4))
    events = await run(engine_with(db, timed, first_token_timeout=0.1), ask(p, "hello?"))
    assert isinstance(events[-1], TurnFailed) and events[-1].kind == "timeout"


async def test_upstream_rate_limit_fails_the_turn_with_its_hint(db: Database) -> None:
    p = await principal(db)
    limited = ScriptedProvider(
        Script(fail_after=0, error=ProviderError("rate_limited", "slow down", retry_after=3))
    )
    events = await run(engine_with(db, limited), ask(p, "x"))
    failure = events[-1]
    assert isinstance(failure, TurnFailed) and failure.kind == "rate_limited" and failure.retry_after == 3


async def test_consumer_disconnect_cancels_provider_and_stores_partial(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider(Script(deltas=["a"] * 200, delay=0.05))
    engine = engine_with(db, provider)
    turn = await engine.open(ask(p, "long answer please", conv))

    async def consume() -> None:
        async for _ in turn.events():
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(provider.interrupted.wait(), 1)
    rows = await stored(db, conv)
    assert rows[-1].status == "cancelled"
    assert 0 < len(rows[-1].content) < 200
    (ledger,) = await usage_rows(db, p)
    assert ledger.status == "cancelled" and ledger.output_tokens > 0


async def test_regenerate_keeps_old_answer_as_sibling(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    await run(engine_with(db, ScriptedProvider()), ask(p, "question", conv))
    second = ScriptedProvider(Script(deltas=["Another answer."]))
    await run(engine_with(db, second), ask(p, "ignored input", conv, mode="regenerate"))
    assert [m.text for m in second.requests[0].messages] == ["question"]
    async with db.read() as session:
        c = await conversations.get(session, principal=p, conversation_id=conv)
        visible = await conversations.visible_history(session, conversation=c)
    assert [m.content for m in visible] == ["question", "Another answer."]
    rows = await stored(db, conv)
    assert sorted(m.content for m in rows if m.role == "assistant") == ["Another answer.", "Hello, world."]


async def test_edit_makes_a_new_version_and_drops_later_turns_from_context(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    engine = engine_with(db, ScriptedProvider())
    await run(engine, ask(p, "one", conv))
    await run(engine, ask(p, "two", conv))
    rows = await stored(db, conv)
    two = next(m for m in rows if m.content == "two")
    provider = ScriptedProvider(Script(deltas=["edited answer"]))
    await run(engine_with(db, provider), ask(p, "two, edited", conv, mode="edit", edit_message_id=two.id))
    assert [m.text for m in provider.requests[0].messages] == ["one", "Hello, world.", "two, edited"]
    async with db.read() as session:
        c = await conversations.get(session, principal=p, conversation_id=conv)
        visible = [m.content for m in await conversations.visible_history(session, conversation=c)]
    assert visible == ["one", "Hello, world.", "two, edited", "edited answer"]
    assert len(await stored(db, conv)) == 6


async def test_unknown_model_and_missing_conversation_fail_before_streaming(db: Database) -> None:
    p = await principal(db)
    engine = engine_with(db, ScriptedProvider())
    with pytest.raises(NotFound):
        await engine.open(ask(p, "x", options=TurnOptions(model_id="nope")))
    with pytest.raises(NotFound):
        await engine.open(ask(p, "x", uuid.uuid4()))
    with pytest.raises(InvalidInput):
        await engine.open(ask(p, "x", await new_conversation(db, p), mode="regenerate"))


async def conversation_of(db: Database, p: Principal, texts: list[str]) -> uuid.UUID:
    """A conversation holding `texts` as alternating user and assistant messages."""
    conv = await new_conversation(db, p)
    async with db.write() as session:
        c = await conversations.get(session, principal=p, conversation_id=conv, for_update=True)
        roles = ("user", "assistant")
        messages = [conversations.NewMessage(roles[i % 2], text) for i, text in enumerate(texts)]
        await conversations.append_messages(session, conversation=c, messages=messages)
    return conv


async def test_long_history_is_trimmed_oldest_first(db: Database) -> None:
    p = await principal(db)
    conv = await conversation_of(db, p, [f"turn {i} " + "word " * 200 for i in range(40)])
    provider = ScriptedProvider()
    await run(engine_with(db, provider), ask(p, "latest", conv))
    sent = provider.requests[0].messages
    assert sent[-1].text == "latest"
    assert 0 < len(sent) < 41
    assert sent[0].text.startswith(f"turn {41 - len(sent)} ")  # contiguous, newest kept


async def test_a_history_longer_than_one_page_is_read_in_pages_and_fitted_exactly(db: Database) -> None:
    """Hundreds of short messages (several pages of HISTORY_PAGE): what is sent is exactly what fitting
    the whole visible history to the window would give, and the read stops once the window is full."""
    p = await principal(db)
    count = 700
    conv = await conversation_of(db, p, [f"m{i} some words" for i in range(count)])
    provider = ScriptedProvider()
    engine = engine_with(db, provider)
    await run(engine, ask(p, "latest", conv))
    sent = [m.text for m in provider.requests[0].messages]

    async with db.read() as session:
        c = await conversations.get(session, principal=p, conversation_id=conv)
        visible = await conversations.visible_history(session, conversation=c)
    everything = [ChatMessage.of_text(m.role, m.content) for m in visible[:-1]]  # up to the input
    expected = fit_to_window(
        system=None,
        history=everything,
        context_window=MODEL.context_window,
        max_tokens=MODEL.max_output_tokens,
        count=lambda text: engine.registry.count_tokens(MODEL, text),
    )
    assert sent == [m.text for m in expected.messages]
    assert sent[-1] == "latest" and 32 < len(sent) < count  # more than one page, less than all


async def test_a_turn_left_unread_is_settled_as_cancelled_when_its_scope_ends(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider()
    async with turn_scope():
        turn = await engine_with(db, provider).open(ask(p, "hello", conv))
        assert (await stored(db, conv))[-1].status == "in_progress"
    rows = await stored(db, conv)
    assert (rows[-1].role, rows[-1].status) == ("assistant", "cancelled")
    assert provider.requests == []  # the model was never called
    await turn.aclose()  # closing again stores nothing more
    (ledger,) = await usage_rows(db, p)
    assert ledger.status == "cancelled"
    with pytest.raises(RuntimeError):
        turn.events()


async def test_closing_a_turn_mid_stream_stops_the_model_and_keeps_the_partial_answer(db: Database) -> None:
    p = await principal(db)
    conv = await new_conversation(db, p)
    provider = ScriptedProvider(Script(deltas=["a"] * 200, delay=0.01))
    turn = await engine_with(db, provider).open(ask(p, "long answer please", conv))
    events = turn.events()
    seen = [await anext(events) for _ in range(5)]  # started, then four deltas
    assert isinstance(seen[0], TurnStarted)
    await turn.aclose()
    await asyncio.wait_for(provider.interrupted.wait(), 1)
    rows = await stored(db, conv)
    assert (rows[-1].status, rows[-1].content) == ("cancelled", "aaaa")
