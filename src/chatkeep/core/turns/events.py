"""What a turn tells its caller as it runs, in order:

    TurnStarted, GuardNotice?, (TextDelta | ToolCall)*, then TurnDone or TurnFailed

Text and tool calls pass through as the provider sent them (providers.base); the rest is the turn's own.

Dialects turn these into their wire format (Quant SSE, Waldur NDJSON, a buffered JSON body).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatkeep.providers.base import FinishReason, TextDelta, ToolCall


@dataclass(frozen=True, slots=True)
class TurnStarted:
    request_id: str
    model: str
    conversation_id: uuid.UUID | None
    user_message_ids: tuple[uuid.UUID, ...]
    assistant_message_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class GuardNotice:
    text: str
    action: str


@dataclass(frozen=True, slots=True)
class TurnDone:
    finish_reason: FinishReason
    input_tokens: int
    output_tokens: int
    cost_cents: float
    text: str
    tool_uses: tuple[ToolCall, ...]
    stopped: bool = False  # a user stopped the model call (the answer is kept as `cancelled`)


@dataclass(frozen=True, slots=True)
class TurnFailed:
    kind: str  # the provider's failure kind (providers.base.ProviderError): timeout, rate_limited, …
    message: str
    retry_after: float | None = None  # the upstream's hint when it rate-limited us


TurnEvent = TurnStarted | GuardNotice | TextDelta | ToolCall | TurnDone | TurnFailed
