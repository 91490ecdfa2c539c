"""Settling a turn: its answer, status and usage row stored in one transaction, however it ended."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatkeep.core import conversations
from chatkeep.core import usage as usage_ledger
from chatkeep.core.principals import Principal
from chatkeep.providers.base import FinishReason, ModelInfo, ProviderError, ToolCall, Usage
from chatkeep.storage.database import Database
from chatkeep.storage.direct import DirectTransaction

if TYPE_CHECKING:
    import uuid

    from chatkeep.providers.registry import ModelRegistry


@dataclass(slots=True)
class Outcome:
    """What a turn produced so far; settled as it stands when the turn ends."""

    started: float = field(default_factory=time.monotonic)
    # The answer so far, in the pieces it arrived in: appending a delta to one string would copy the
    # whole answer every time, quadratic in a long answer's length.
    parts: list[str] = field(default_factory=list)
    finish: FinishReason = "stop"
    usage: Usage | None = None
    status: str | None = None  # None until the model finished or failed: then the turn was cancelled
    error: ProviderError | None = None
    tool_uses: list[ToolCall] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The answer so far (joined once, then kept joined until more arrives)."""
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    @text.setter
    def text(self, value: str) -> None:
        self.parts[:] = [value]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What was stored: the tokens accounted and their cost."""

    input_tokens: int
    output_tokens: int
    cost_cents: float


@dataclass(frozen=True, slots=True)
class Reservation:
    """Where a turn's outcome goes: the reserved answer row (None for a stateless turn) and whose it is."""

    principal: Principal
    user_id: str
    model: ModelInfo
    input_tokens: int
    blocked: bool
    conversation_id: uuid.UUID | None = None
    assistant_message_id: uuid.UUID | None = None


def tokens_of(outcome: Outcome, reservation: Reservation, registry: ModelRegistry) -> tuple[int, int]:
    """(input, output) tokens: as the provider reported them, else as counted here."""
    if reservation.blocked:
        tokens_in = 0
    else:
        tokens_in = outcome.usage.input_tokens if outcome.usage else reservation.input_tokens
    if outcome.usage:
        tokens_out = outcome.usage.output_tokens
    else:  # cancelled or failed before the provider reported usage: count what was generated
        tokens_out = registry.count_tokens(reservation.model, outcome.text) if outcome.text else 0
    return bounded(tokens_in), bounded(tokens_out)


def bounded(tokens: int) -> int:
    """A token count as stored: never negative, never past what the 64-bit columns and JSON carry exactly
    (a provider reporting nonsense must not make the settle fail, or the call goes unaccounted)."""
    return min(max(int(tokens), 0), conversations.MAX_TOTAL_TOKENS)


def cost_cents(model: ModelInfo, tokens_in: int, tokens_out: int) -> float:
    """What the tokens cost at the model's prices, in cents."""
    pricing = model.pricing
    return (tokens_in * pricing.input_per_m + tokens_out * pricing.output_per_m) / 1_000_000 * 100


async def settle(
    db: Database, registry: ModelRegistry, reservation: Reservation, outcome: Outcome
) -> Settlement:
    """Store the answer (complete, failed or cancelled) and its usage row in one transaction."""
    status = outcome.status or "cancelled"
    tokens_in, tokens_out = tokens_of(outcome, reservation, registry)
    cost = cost_cents(reservation.model, tokens_in, tokens_out)
    settlement = Settlement(input_tokens=tokens_in, output_tokens=tokens_out, cost_cents=round(cost, 6))

    async def store(tx: DirectTransaction) -> Settlement:
        if reservation.assistant_message_id is not None and reservation.conversation_id is not None:
            # Already settled (by a retry whose first attempt did commit, or by the recovery of a process
            # taken for dead): then its usage row exists too, and a second one would count the call twice.
            first = await conversations.settle_answer(
                tx,
                conversation_id=reservation.conversation_id,
                message_id=reservation.assistant_message_id,
                content=outcome.text,
                status=status,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                blocks=_tool_blocks(outcome.tool_uses),
                model=reservation.model.id,
            )
            if not first:
                return settlement
        await usage_ledger.record(
            tx,
            principal=reservation.principal,
            user_id=reservation.user_id,
            model=reservation.model.id,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            latency_ms=int((time.monotonic() - outcome.started) * 1000),
            status="blocked" if reservation.blocked else status,
            cost_cents=cost,
            conversation_id=reservation.conversation_id,
        )
        return settlement

    async with db.direct_write(serialize=reservation.conversation_id) as tx:
        return await store(tx)


def _tool_blocks(tool_uses: list[ToolCall]) -> list[dict[str, Any]] | None:
    if not tool_uses:
        return None
    return [{"type": "tool_use", "id": t.id, "name": t.name, "input": t.input} for t in tool_uses]
