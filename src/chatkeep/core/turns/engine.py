"""Opening turns: choose the model, guard the input, store it with a reserved answer, assemble the context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import conversations, org_config, screening, token_quotas
from chatkeep.core.content import media_kinds
from chatkeep.core.context import fit_to_window
from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.limits import Limits
from chatkeep.core.model_choice import resolve_model
from chatkeep.core.turns import facts, scope
from chatkeep.core.turns.history import HISTORY_PAGE, recent_path, replayable
from chatkeep.core.turns.input import Screened, append_placed, plan_input, system_texts
from chatkeep.core.turns.request import TurnOptions, TurnRequest
from chatkeep.core.turns.retrying import SettleRetries
from chatkeep.core.turns.settle import Reservation
from chatkeep.core.turns.stopping import RunningTurns
from chatkeep.core.turns.turn import Turn
from chatkeep.core.workers import run_count
from chatkeep.providers.base import ChatMessage, ChatRequest, ModelInfo
from chatkeep.storage.database import Database
from chatkeep.storage.direct import DirectTransaction

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry


class TurnEngine:
    """Opens turns against the registry's providers and stores them in the database."""

    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        *,
        first_token_timeout: float = 60.0,
        total_timeout: float = 120.0,
        limits: Limits | None = None,
        running: RunningTurns | None = None,
        runner_id: str | None = None,
        retries: SettleRetries | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.first_token_timeout = first_token_timeout
        self.total_timeout = total_timeout
        self.limits = limits or Limits()
        self.running = running or RunningTurns()
        # This process's id in `replicas`, stored on every answer it reserves (see turns.recovery).
        self.runner_id = runner_id
        self.retries = retries or SettleRetries()

    async def open(self, request: TurnRequest) -> Turn:
        """Validate, guard and (for conversations) store the input; raises domain errors.

        The returned turn is tracked by the current `turn_scope`, which closes it if nobody else does.
        """
        principal = request.principal
        config = request.config
        # Statements each on its own, as at PostgreSQL's READ COMMITTED: none needs another's snapshot.
        async with self.db.direct_read() as session:
            if config is None:
                config = await org_config.get(session, principal=principal)
            await self.limits.check_quota(session, principal=principal, config=config)
            user_id = principal.acting_user(request.user_id)
            existing = None if request.new_conversation else request.conversation_id
            known = await facts.read(session, principal=principal, user_id=user_id, conversation_id=existing)
            await token_quotas.check(
                session, principal=principal, user_id=user_id, config=config, own=known.own_limits
            )
            # Staff's active prompt is trusted like the organisation's configured one.
            staff_prompt = known.staff_prompt
            if known.settings is not None:
                request = replace(request, options=_with_settings(request.options, known.settings))
        model = self._choose_model(request, config)
        self._check_capabilities(model, request)
        options = request.options
        # A regeneration brings no new text: it answers a stored message, screened when it was stored.
        fresh = () if request.mode == "regenerate" else request.messages
        screened = await screening.screen_turn(fresh, options.system_prompt, screening.policy_of(config))
        incoming = [Screened(m, v) for m, v in zip(screened.messages, screened.verdicts, strict=True)]
        verdict = screened.decisive
        # The organisation's own system prompt is trusted; everything after it came from the caller.
        system = (
            "\n\n".join(
                p
                for p in (config.system_prompt, staff_prompt, screened.system_prompt, *system_texts(incoming))
                if p
            )
            or None
        )
        incoming = [s for s in incoming if s.message.role != "system"]
        max_tokens = min(
            options.max_tokens or config.max_tokens or options.default_max_tokens or model.max_output_tokens,
            model.max_output_tokens,
        )
        counted: dict[str, int] = {}  # history texts are counted while reading and again while fitting

        def count(text: str) -> int:
            if text not in counted:
                counted[text] = self.registry.count_tokens(model, text)
            return counted[text]

        reservation = Reservation(
            principal=principal,
            user_id=principal.acting_user(request.user_id),
            model=model,
            input_tokens=0,
            blocked=screened.blocked,
        )
        user_message_ids: tuple[uuid.UUID, ...] = ()
        if request.stateless:
            history = [s.message for s in incoming]
        else:
            reservation, user_message_ids, history = await self._store_input(
                request, reservation, incoming, count
            )
        fit = partial(
            fit_to_window,
            system=system,
            history=history,
            context_window=model.context_window,
            max_tokens=max_tokens,
            count=count,
        )
        context = await run_count(len(system or "") + sum(len(m.text) for m in history), fit)
        provider_request = ChatRequest(
            model=model.upstream_model,
            messages=context.messages,
            system=context.system,
            max_tokens=context.max_tokens,
            temperature=next(
                (
                    t
                    for t in (options.temperature, config.temperature, options.default_temperature)
                    if t is not None
                ),
                None,
            ),
            top_p=options.top_p,
            stop=options.stop,
            tools=options.tools,
            response_format=options.response_format,
        )
        turn = Turn(
            self,
            reservation=replace(reservation, input_tokens=context.input_tokens),
            provider_request=provider_request,
            verdict=verdict,
            user_message_ids=user_message_ids,
        )
        scope.track(turn)
        return turn

    def _choose_model(self, request: TurnRequest, config: org_config.AIConfig) -> ModelInfo:
        return resolve_model(
            self.registry,
            request.options.model_id or config.default_model or self.registry.default_model_id,
            config,
        )

    @staticmethod
    def _check_capabilities(model: ModelInfo, request: TurnRequest) -> None:
        for kind in sorted(media_kinds(request.messages)):
            if not model.supports(kind):
                raise InvalidInput(f"model {model.id!r} does not accept {kind} input", field="messages")
        if request.options.tools and not model.supports("tools"):
            raise InvalidInput(f"model {model.id!r} does not support tools", field="tools")
        if request.options.response_format is not None and not model.supports("structured_output"):
            raise InvalidInput(
                f"model {model.id!r} cannot answer in a requested JSON format", field="response_format"
            )

    def _input_transaction(
        self, request: TurnRequest
    ) -> AbstractAsyncContextManager[AsyncSession | DirectTransaction]:
        """The write transaction that stores a turn's input: prepared statements on the driver, but for
        a new conversation, which the ORM creates (with its owner's chat session)."""
        if request.new_conversation:
            return self.db.write(serialize=request.conversation_id)
        return self.db.direct_write(serialize=request.conversation_id)

    async def _store_input(
        self,
        request: TurnRequest,
        reservation: Reservation,
        incoming: list[Screened],
        count: Callable[[str], int],
    ) -> tuple[Reservation, tuple[uuid.UUID, ...], list[ChatMessage]]:
        """Store the new user message(s) and reserve the answer row; return the reservation, the stored
        input's ids and the history to send."""
        async with self._input_transaction(request) as session:
            if request.new_conversation:
                assert isinstance(session, AsyncSession)
                # Named after its first message the guards let through (a list shows the title).
                first_text = next(
                    (s.message.text for s in incoming if s.message.role == "user" and not s.blocked), ""
                )
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
                if request.own_conversation_only and conversation.user_id != request.principal.user_id:
                    # Staff may read other people's conversations, but not speak in them.
                    raise NotFound("conversation not found", field="conversation")
            placement = await plan_input(session, conversation, request, incoming)
            reserved = conversations.NewMessage(
                role="assistant",
                content="",
                status="in_progress",
                model=reservation.model.id,
                runner_id=self.runner_id,
            )
            added = await append_placed(session, conversation, placement, reserved)
            stored, placeholder = added[:-1], added[-1]
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
        history = await recent_path(self.db, conversation, leaf, reservation.model, count, page)
        reservation = replace(
            reservation,
            user_id=conversation.user_id,  # usage belongs to the conversation's owner
            conversation_id=conversation.id,
            assistant_message_id=placeholder.id,
            blocked=reservation.blocked or placement.answers_blocked,
        )
        return reservation, tuple(m.id for m in stored), replayable(history or stored)


def _with_settings(options: TurnOptions, stored: conversations.Settings) -> TurnOptions:
    """The turn's own options, with the conversation's settings where the turn sets nothing. The stored
    system prompt came from a caller, so it is screened with the turn like one sent now."""
    return replace(
        options,
        model_id=options.model_id or stored.model,
        system_prompt=options.system_prompt or stored.system_prompt,
        max_tokens=options.max_tokens or stored.max_tokens,
        temperature=options.temperature if options.temperature is not None else stored.temperature,
    )
