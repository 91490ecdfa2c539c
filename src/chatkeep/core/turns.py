"""A turn: one inference, from the user's message to the stored answer and its usage row.

    prepare()  validate model and content → guard the input → (with a conversation) store the user
               message(s) and reserve the assistant row in one short transaction → assemble the context
    stream()   call the provider → yield TurnEvents → store the answer, its status and usage in one
               transaction, whatever happens (success, provider error, timeout or client disconnect)

`prepare` raises domain errors before anything is streamed, so dialects can answer with a status code;
after that, failures arrive as a `TurnFailed` event. The write lock is never held while a model runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
from sqlalchemy import update as sql_update

from chatkeep.core import conversations, org_config
from chatkeep.core import usage as usage_ledger
from chatkeep.core.content import media_kinds
from chatkeep.core.context import PER_MESSAGE_OVERHEAD, fit_to_window
from chatkeep.core.errors import InvalidInput
from chatkeep.core.history import is_replayable, replayable
from chatkeep.core.limits import Limits
from chatkeep.core.principals import Principal
from chatkeep.core.turn_events import (
    GuardNotice,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnStarted,
)
from chatkeep.core.turn_input import append_placed, guard_input, plan_input, system_texts
from chatkeep.guards import GuardPolicy, GuardVerdict
from chatkeep.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    ModelInfo,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from chatkeep.storage.database import Database
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, Conversation, Message

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry

log = logging.getLogger("chatkeep.turns")
_UNTIMED = contextlib.nullcontext()
Mode = Literal["append", "regenerate", "edit"]
REFUSAL = "I can't help with that request."
HISTORY_PAGE = 32  # history messages read with the input, under the write lock; more are read after it


@dataclass(frozen=True, slots=True)
class TurnOptions:
    model_id: str | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    response_format: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One inference. Without `conversation_id` (and not `new_conversation`) the turn is stateless:
    `messages` is the whole context and nothing but usage is stored."""

    principal: Principal
    messages: tuple[ChatMessage, ...]
    options: TurnOptions = TurnOptions()
    conversation_id: uuid.UUID | None = None
    new_conversation: bool = False
    user_id: str | None = None
    mode: Mode = "append"
    edit_message_id: uuid.UUID | None = None
    # The organisation's AI config when the caller already read it (with the token): no second read.
    config: org_config.AIConfig | None = None


_FAILURE_STATUS = {"timeout": 504, "rate_limited": 429, "bad_request": 400, "not_found": 404}


@dataclass(slots=True)
class PreparedTurn:
    """Everything `stream` needs; produced by `prepare`."""

    request: TurnRequest
    model: ModelInfo
    provider_request: ChatRequest
    input_tokens: int
    user_id: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    conversation_id: uuid.UUID | None = None
    user_message_ids: tuple[uuid.UUID, ...] = ()
    assistant_message_id: uuid.UUID | None = None
    verdict: GuardVerdict | None = None
    blocked: bool = False
    streamed: bool = False  # stream() began, and so will settle the reserved row itself


class TurnEngine:
    """Runs turns against the registry's providers and stores them in the database."""

    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        *,
        first_token_timeout: float = 60.0,
        total_timeout: float = 120.0,
        limits: Limits | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.first_token_timeout = first_token_timeout
        self.total_timeout = total_timeout
        self.limits = limits or Limits()

    # ---- prepare -------------------------------------------------------------------------------

    async def prepare(self, request: TurnRequest) -> PreparedTurn:
        """Validate, guard and (for conversations) store the input; raises domain errors."""
        principal = request.principal
        config = request.config
        if config is None or self.limits.has_quota(config):
            async with self.db.read() as session:
                if config is None:
                    config = await org_config.get(session, principal=principal)
                await self.limits.check_quota(session, principal=principal, config=config)
        model = self._choose_model(request, config)
        self._check_capabilities(model, request)
        policy = GuardPolicy.model_validate(config.guard_policy) if config.guard_policy else None
        incoming, verdict = guard_input(request, policy)
        options = request.options
        system = (
            "\n\n".join(
                p for p in (config.system_prompt, options.system_prompt, *system_texts(incoming)) if p
            )
            or None
        )
        incoming = [m for m in incoming if m.role != "system"]
        max_tokens = min(
            options.max_tokens or config.max_tokens or model.max_output_tokens, model.max_output_tokens
        )
        prepared = PreparedTurn(
            request=request,
            model=model,
            provider_request=ChatRequest(model=model.upstream_model, messages=()),
            input_tokens=0,
            user_id=principal.acting_user(request.user_id),
            verdict=verdict,
            blocked=verdict is not None and verdict.action == "block",
        )
        counted: dict[str, int] = {}  # history texts are counted while reading and again while fitting

        def count(text: str) -> int:
            if text not in counted:
                counted[text] = self.registry.count_tokens(model, text)
            return counted[text]

        if request.conversation_id is None and not request.new_conversation:
            history = incoming
        else:
            history = await self._store_input(prepared, incoming, verdict, count)
        context = fit_to_window(
            system=system,
            history=history,
            context_window=model.context_window,
            max_tokens=max_tokens,
            count=count,
        )
        prepared.input_tokens = context.input_tokens
        prepared.provider_request = ChatRequest(
            model=model.upstream_model,
            messages=context.messages,
            system=context.system,
            max_tokens=context.max_tokens,
            temperature=options.temperature if options.temperature is not None else config.temperature,
            top_p=options.top_p,
            stop=options.stop,
            tools=options.tools,
            response_format=options.response_format,
        )
        return prepared

    def _choose_model(self, request: TurnRequest, config: org_config.AIConfig) -> ModelInfo:
        model_id = request.options.model_id or config.default_model or self.registry.default_model_id
        model = self.registry.get_or_raise(model_id)
        if not config.allows(model.id):
            raise InvalidInput(f"model {model.id!r} is not enabled for this organisation", field="modelId")
        return model

    @staticmethod
    def _check_capabilities(model: ModelInfo, request: TurnRequest) -> None:
        for kind in sorted(media_kinds(request.messages)):
            if not model.supports(kind):
                raise InvalidInput(f"model {model.id!r} does not accept {kind} input", field="messages")
        if request.options.tools and not model.supports("tools"):
            raise InvalidInput(f"model {model.id!r} does not support tools", field="toolConfig")

    async def _store_input(
        self,
        prepared: PreparedTurn,
        incoming: list[ChatMessage],
        verdict: GuardVerdict | None,
        count: Callable[[str], int],
    ) -> list[ChatMessage]:
        """Store the new user message(s) and reserve the assistant row; return the history to send."""
        request = prepared.request
        async with self.db.write(serialize=request.conversation_id) as session:
            if request.new_conversation:
                first_text = next((m.text for m in incoming if m.role == "user"), "")
                conversation = await conversations.create(
                    session,
                    principal=request.principal,
                    user_id=request.user_id,
                    title=conversations.title_from(first_text),
                )
            else:
                assert request.conversation_id is not None
                conversation = await conversations.get(
                    session,
                    principal=request.principal,
                    conversation_id=request.conversation_id,
                    for_update=True,
                )
            placement = await plan_input(session, conversation, request, incoming, verdict)
            reserved = conversations.NewMessage(
                role="assistant", content="", status="in_progress", model=prepared.model.id
            )
            added = await append_placed(session, conversation, placement, reserved)
            stored, placeholder = added[:-1], added[-1]
            prepared.conversation_id = conversation.id
            prepared.user_id = conversation.user_id  # usage belongs to the conversation's owner
            prepared.user_message_ids = tuple(m.id for m in stored)
            prepared.assistant_message_id = placeholder.id
            # The history to send ends at the input (for a regeneration: at the user message). A short
            # conversation's is read here at once; a longer one's rest after the write lock is released,
            # and only as much as could fit the model's window, so a long conversation neither holds up
            # other writers nor costs its length. Reading it after the transaction is safe: rows on a path
            # are never rewritten, but for an unfinished answer's, left out of what a model sees anyway.
            leaf = placeholder.parent_id
            assert leaf is not None
            page = await conversations.path_to(
                session, conversation=conversation, leaf_id=leaf, newest=HISTORY_PAGE
            )
        history = await self._recent_path(conversation, leaf, prepared.model, count, page)
        return replayable(history or stored)

    async def _recent_path(
        self,
        conversation: Conversation,
        leaf_id: uuid.UUID,
        model: ModelInfo,
        count: Callable[[str], int],
        path: list[Message],
    ) -> list[Message]:
        """The newest part of the path to `leaf_id` that could fit `model`'s window (fit_to_window trims it
        exactly): `path`, its newest HISTORY_PAGE messages already read, grown from the leaf in pages four
        times larger."""
        asked, cost, counted = HISTORY_PAGE, 0, 0
        while True:
            older = path[: len(path) - counted]
            cost += sum(count(m.content) + PER_MESSAGE_OVERHEAD for m in older if is_replayable(m))
            counted = len(path)
            if counted < asked or cost > model.context_window:  # the whole path, or more than fits
                return path
            asked *= 4
            async with self.db.read() as session:
                path = await conversations.path_to(
                    session, conversation=conversation, leaf_id=leaf_id, newest=asked
                )

    # ---- stream --------------------------------------------------------------------------------

    async def stream(self, prepared: PreparedTurn) -> AsyncIterator[TurnEvent]:
        """Run the model and yield events; the answer and usage are stored however the stream ends."""
        prepared.streamed = True
        yield TurnStarted(
            request_id=prepared.request_id,
            model=prepared.model.id,
            conversation_id=prepared.conversation_id,
            user_message_ids=prepared.user_message_ids,
            assistant_message_id=prepared.assistant_message_id,
        )
        verdict = prepared.verdict
        if verdict is not None and verdict.notice:
            yield GuardNotice(text=verdict.notice, action=verdict.action)
        outcome = _Outcome(started=time.monotonic())
        try:
            if prepared.blocked:
                outcome.text, outcome.finish = REFUSAL, "content_filter"
                yield TextDelta(REFUSAL)
            else:
                async for event in self._run_provider(prepared, outcome):
                    yield event
            outcome.status = "complete"
        except ProviderError as exc:
            outcome.status = "failed"
            outcome.error = exc
        finally:
            # Runs on success, failure and cancellation alike; shielded so a disconnect cannot cut it short.
            with anyio.CancelScope(shield=True):
                cost = await self._finish(prepared, outcome)
        if outcome.error is not None:
            yield TurnFailed(
                kind=outcome.error.kind,
                message=outcome.error.message,
                status=_FAILURE_STATUS.get(outcome.error.kind, 502),
                retry_after=outcome.error.retry_after,
            )
        else:
            yield TurnDone(
                finish_reason=outcome.finish,
                input_tokens=outcome.input_tokens(prepared),
                output_tokens=outcome.output_tokens(self.registry, prepared.model),
                cost_cents=cost,
                text=outcome.text,
                tool_uses=tuple(outcome.tool_uses),
            )

    async def abandon(self, prepared: PreparedTurn) -> None:
        """Settle a prepared turn whose stream never began (the client left before the first byte): its
        reserved row is stored as cancelled now, instead of waiting in progress for the stale sweep."""
        if prepared.streamed:
            return
        prepared.streamed = True
        await self._finish(prepared, _Outcome(started=time.monotonic()))

    async def _run_provider(self, prepared: PreparedTurn, outcome: _Outcome) -> AsyncIterator[TurnEvent]:
        provider = self.registry.provider_for(prepared.model)
        events = provider.stream(prepared.provider_request).__aiter__()
        # A provider enforcing the same limits itself needs no second timer per event (see providers.base).
        timed = not getattr(provider, "applies_deadlines", False)
        deadline = time.monotonic() + self.total_timeout
        first = True
        try:
            while True:
                budget = deadline - time.monotonic()
                if first:
                    budget = min(budget, self.first_token_timeout)
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                    # races with the inner call finishing, and a client disconnect would then be lost.
                    async with asyncio.timeout(max(budget, 0.001)) if timed else _UNTIMED:
                        event = await events.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    what = "the first token" if first else "the model to finish"
                    raise ProviderError("timeout", f"timed out waiting for {what}") from None
                except ProviderError:
                    raise
                except Exception as exc:
                    # A provider bug must still end the turn as `failed` with a clear error event,
                    # not as a broken response and a row marked `cancelled`.
                    log.exception("provider %s failed unexpectedly", provider.name)
                    raise ProviderError("upstream", "the model failed unexpectedly") from exc
                if isinstance(event, TextDelta):
                    first = False
                    outcome.text += event.text
                    yield event
                elif isinstance(event, ToolCall):
                    first = False
                    outcome.tool_uses.append(event)
                    yield event
                elif isinstance(event, Usage):
                    outcome.usage = event
                elif isinstance(event, Finish):
                    outcome.finish = event.reason
        finally:
            with anyio.CancelScope(shield=True):
                await _aclose(events)

    async def _finish(self, prepared: PreparedTurn, outcome: _Outcome) -> float:
        """Store the answer (complete, failed or cancelled) and its usage in one transaction."""
        status = outcome.status or "cancelled"
        tokens_in = outcome.input_tokens(prepared)
        tokens_out = outcome.output_tokens(self.registry, prepared.model)
        pricing = prepared.model.pricing
        cost = (tokens_in * pricing.input_per_m + tokens_out * pricing.output_per_m) / 1_000_000 * 100
        async with self.db.write(serialize=prepared.conversation_id) as session:
            if prepared.assistant_message_id is not None:
                # Plain table UPDATEs, not load-then-flush (two statements fewer per turn) nor ORM-enabled
                # ones (their bulk-update machinery cost more than the SQL); the token total is added in
                # SQL. A row deleted meanwhile (the session was deleted mid-stream) matches nothing.
                answer: dict[str, Any] = {
                    "content": outcome.text,
                    "status": status,
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                }
                if outcome.tool_uses:  # the reserved row has no blocks; leave them untouched otherwise
                    answer["blocks"] = _tool_blocks(outcome.tool_uses)
                await session.execute(
                    sql_update(MESSAGES).where(MESSAGES.c.id == prepared.assistant_message_id).values(answer)
                )
                await session.execute(
                    sql_update(CONVERSATIONS)
                    .where(CONVERSATIONS.c.id == prepared.conversation_id)
                    .values(
                        total_tokens=CONVERSATIONS.c.total_tokens + tokens_in + tokens_out,
                        model=prepared.model.id,
                    )
                )
            await usage_ledger.record(
                session,
                principal=prepared.request.principal,
                user_id=prepared.user_id,
                model=prepared.model.id,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                latency_ms=int((time.monotonic() - outcome.started) * 1000),
                status="blocked" if prepared.blocked else status,
                cost_cents=cost,
                conversation_id=prepared.conversation_id,
            )
        return round(cost, 6)


@dataclass(slots=True)
class _Outcome:
    started: float
    text: str = ""
    finish: FinishReason = "stop"
    usage: Usage | None = None
    status: str | None = None
    error: ProviderError | None = None
    tool_uses: list[ToolCall] = field(default_factory=list)

    def input_tokens(self, prepared: PreparedTurn) -> int:
        if prepared.blocked:
            return 0
        return self.usage.input_tokens if self.usage else prepared.input_tokens

    def output_tokens(self, registry: ModelRegistry, model: ModelInfo) -> int:
        if self.usage:
            return self.usage.output_tokens
        # Cancelled or failed before the provider reported usage: count what was generated.
        return registry.count_tokens(model, self.text) if self.text else 0


def _tool_blocks(tool_uses: list[ToolCall]) -> list[dict[str, Any]] | None:
    if not tool_uses:
        return None
    return [{"type": "tool_use", "id": t.id, "name": t.name, "input": t.input} for t in tool_uses]


async def _aclose(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
