"""An open turn: runs the model once, reports events, and is settled when it is closed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import anyio

from chatkeep.core.turns.checkpoint import Checkpoints
from chatkeep.core.turns.events import GuardNotice, TurnDone, TurnEvent, TurnFailed, TurnStarted
from chatkeep.core.turns.retrying import DATABASE_UNAVAILABLE
from chatkeep.core.turns.settle import Outcome, Reservation, Settlement, cost_cents, settle, tokens_of
from chatkeep.guards import GuardVerdict
from chatkeep.observability import observe, turn_observer
from chatkeep.providers.base import ChatRequest, Finish, ModelInfo, ProviderError, TextDelta, ToolCall, Usage
from chatkeep.providers.deadlines import Expired, Watchdog

if TYPE_CHECKING:
    from chatkeep.core.turns.engine import TurnEngine

log = logging.getLogger("chatkeep.turns")
REFUSAL = "I can't help with that request."


class Turn:
    """One inference whose input is stored and whose answer row is reserved (see `TurnEngine.open`).

    Read `events()` once; `aclose()` settles the turn as it stands — the answer, its status (complete,
    failed, or cancelled when the events were never read to the end) and the usage row. Closing twice is
    harmless, and closing is also what ends a running model call.
    """

    def __init__(
        self,
        engine: TurnEngine,
        *,
        reservation: Reservation,
        provider_request: ChatRequest,
        verdict: GuardVerdict | None,
        user_message_ids: tuple[uuid.UUID, ...] = (),
    ) -> None:
        self._engine = engine
        self._reservation = reservation
        self._provider_request = provider_request
        self._verdict = verdict
        self._events: AsyncGenerator[TurnEvent, None] | None = None
        self._settled: Settlement | None = None
        self._stop_requested = False
        self._watchdog: Watchdog | None = None  # cuts short the wait for the model's next event
        self._unstored = False  # the settle met an unavailable database and is being retried
        self._checkpoints: Checkpoints | None = None
        # Read whole (`result`): its client sees nothing before the end, so a crash cannot lose what it
        # saw, and the answer needs no checkpoints on the way (see turns.checkpoint).
        self._buffered = False
        self.request_id = uuid.uuid4().hex
        self.user_message_ids = user_message_ids

    @property
    def model(self) -> ModelInfo:
        return self._reservation.model

    @property
    def conversation_id(self) -> uuid.UUID | None:
        return self._reservation.conversation_id

    @property
    def assistant_message_id(self) -> uuid.UUID | None:
        return self._reservation.assistant_message_id

    @property
    def blocked(self) -> bool:
        return self._reservation.blocked

    def events(self) -> AsyncIterator[TurnEvent]:
        """TurnStarted, GuardNotice?, (TextDelta | ToolCall)*, then TurnDone or TurnFailed. Once only."""
        if self._events is not None or self._settled is not None:
            raise RuntimeError("a turn's events can be read only once")
        self._events = turn_observer.watch(
            self._run(), org=self._reservation.principal.org_name, model=self.model.id
        )
        return self._events

    async def result(self) -> TurnDone | TurnFailed:
        """Run the turn to its end and return how it ended (for buffered answers)."""
        last: TurnDone | TurnFailed | None = None
        self._buffered = True
        self._provider_request = replace(self._provider_request, buffered=True)
        async for event in self.events():
            if isinstance(event, TurnDone | TurnFailed):
                last = event
        assert last is not None  # _run always ends with one of them
        return last

    async def aclose(self) -> None:
        """Settle the turn however far it got; a running model call is stopped first."""
        with anyio.CancelScope(shield=True):
            # Closing the events settles them in their `finally`; a generator running in another task is
            # left to finish there (it settles the same way).
            if self._events is not None and not getattr(self._events, "ag_running", False):
                await self._events.aclose()
            if self._settled is None:
                self._settled = await self._settle(Outcome())

    def stop(self) -> None:
        """Stop the model call (a user asked to): the turn ends as `cancelled` with what was generated,
        and its events end with TurnDone(stopped=True). Safe to call at any time, any number of times."""
        self._stop_requested = True
        if self._watchdog is not None:  # interrupt the wait now, not at the model's next event
            self._watchdog.interrupt()

    async def __aenter__(self) -> Turn:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _settle(self, outcome: Outcome) -> Settlement:
        """Settle now; if the database cannot be reached, settle later (retried until it can) and report
        the turn's tokens as counted here."""
        engine = self._engine

        async def store() -> Settlement:
            return await settle(engine.db, engine.registry, self._reservation, outcome)

        try:
            return await store()
        except DATABASE_UNAVAILABLE as exc:
            log.warning(
                "the database is unavailable (%s): the answer is stored when it is back", type(exc).__name__
            )
            engine.retries.add(store, f"the answer of turn {self.request_id}")
            self._unstored = True
            tokens_in, tokens_out = tokens_of(outcome, self._reservation, engine.registry)
            cost = cost_cents(self.model, tokens_in, tokens_out)
            return Settlement(input_tokens=tokens_in, output_tokens=tokens_out, cost_cents=round(cost, 6))

    async def _run(self) -> AsyncGenerator[TurnEvent, None]:
        yield TurnStarted(
            request_id=self.request_id,
            model=self.model.id,
            conversation_id=self.conversation_id,
            user_message_ids=self.user_message_ids,
            assistant_message_id=self.assistant_message_id,
        )
        verdict = self._verdict
        if verdict is not None and verdict.notice:
            yield GuardNotice(text=verdict.notice, action=verdict.action)
        outcome = Outcome()
        running = self._engine.running
        if self.conversation_id is not None:
            running.add(self.conversation_id, self)
        if self.assistant_message_id is not None and not self.blocked and not self._buffered:
            self._checkpoints = Checkpoints(
                self._engine.db, self.assistant_message_id, input_tokens=self._reservation.input_tokens
            )
        try:
            if self.blocked:
                outcome.text, outcome.finish = REFUSAL, "content_filter"
                yield TextDelta(REFUSAL)
            else:
                async for event in self._model_events(outcome):
                    yield event
            outcome.status = "complete"
        except ProviderError as exc:
            outcome.status = "failed"
            outcome.error = exc
        finally:
            if self.conversation_id is not None:
                running.discard(self.conversation_id, self)
            if self._stop_requested and outcome.error is None:
                outcome.status = "cancelled"
            # Runs on success, failure and cancellation alike; shielded so a disconnect cannot cut it short.
            with anyio.CancelScope(shield=True):
                if self._checkpoints is not None:
                    await self._checkpoints.aclose()
                if self._settled is None:
                    self._settled = await self._settle(outcome)
        settled = self._settled
        assert settled is not None  # the `finally` above settled the turn
        if self._unstored:
            yield TurnFailed(
                kind="storage_unavailable",
                message="the answer could not be stored: the database is unavailable. It is stored, with its "
                "usage, as soon as the database is back",
                retry_after=5.0,
            )
        elif outcome.error is not None:
            yield TurnFailed(
                kind=outcome.error.kind, message=outcome.error.message, retry_after=outcome.error.retry_after
            )
        else:
            yield TurnDone(
                finish_reason=outcome.finish,
                input_tokens=settled.input_tokens,
                output_tokens=settled.output_tokens,
                cost_cents=settled.cost_cents,
                text=outcome.text,
                tool_uses=tuple(outcome.tool_uses),
                stopped=self._stop_requested,
            )

    async def _model_events(self, outcome: Outcome) -> AsyncIterator[TurnEvent]:
        """The provider's stream under the first-token and total deadlines; fills `outcome` as it goes."""
        engine = self._engine
        provider = engine.registry.provider_for(self.model)
        events = observe.model_call(
            provider.stream(self._provider_request),
            provider=provider.name,
            model=self._provider_request.model,
        ).__aiter__()
        # A provider enforcing the same limits itself needs no second deadline (see providers.base); the
        # wait is still one that `stop` can cut short.
        timed = not getattr(provider, "applies_deadlines", False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + engine.total_timeout
        first = True

        def answer_so_far() -> str:
            return outcome.text

        # One timer per deadline rather than an `asyncio.timeout` block per event (see Watchdog).
        self._watchdog = watchdog = Watchdog(loop)
        try:
            while not self._stop_requested:
                if timed:
                    # Until the first token, each wait may last first_token_timeout, within the total.
                    until = min(deadline, loop.time() + engine.first_token_timeout) if first else deadline
                    if until != watchdog.deadline:
                        watchdog.arm(until)
                try:
                    event = await watchdog.next(events)
                except StopAsyncIteration:
                    return
                except (Expired, TimeoutError):
                    if self._stop_requested:
                        return
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
                    outcome.parts.append(event.text)
                    if self._checkpoints is not None:
                        self._checkpoints.note(answer_so_far)
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
            watchdog.disarm()
            with anyio.CancelScope(shield=True):
                await _aclose(events)


async def _aclose(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
