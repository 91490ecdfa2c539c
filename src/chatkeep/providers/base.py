"""The provider contract: one streaming method that speaks plain data, and nothing of HTTP dialects.

A provider turns a `ChatRequest` into an async stream of `ProviderEvent`s:

    (TextDelta | ToolCall)*  Usage  Finish

- `TextDelta` carries a piece of assistant text, in order.
- `ToolCall` carries one complete tool invocation the model asked for.
- `Usage` carries token counts. A provider emits it when its upstream reports counts; when the upstream
  does not, the provider counts them itself (so every successful stream has exactly one Usage).
- `Finish` is always last on success; `reason` is one of stop | length | content_filter | tool_use.

Failures are raised as `ProviderError` (never yielded). Events already yielded stay valid: the caller
stores whatever text arrived before the error.

Deadlines: a provider that enforces the first-token and total limits itself (`deadlines.with_deadlines`,
raising ProviderError("timeout")) says so with `applies_deadlines = True`; the turn engine then sets no
second timer per event. Without it, the engine enforces them.

Cancellation: the caller stops iterating and calls `aclose()` on the async generator (or the task
running it is cancelled). The provider must then abort the upstream call promptly (within a second),
releasing connections and threads in `finally` blocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "content_filter", "tool_use"]
ErrorKind = Literal["unavailable", "timeout", "rate_limited", "bad_request", "auth", "upstream", "not_found"]


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str


@dataclass(frozen=True, slots=True)
class MediaBlock:
    """An image, video or document, already base64-decoded and checked against the allowed formats."""

    kind: Literal["image", "video", "document"]
    format: str
    data: bytes
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """An earlier tool call by the assistant (Bedrock `toolUse`)."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    """The result of an earlier tool call, sent back by the client (Bedrock `toolResult`)."""

    tool_use_id: str
    content: str


ContentBlock = TextBlock | MediaBlock | ToolUseBlock | ToolResultBlock


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["user", "assistant", "system", "tool"]
    content: tuple[ContentBlock, ...]

    @property
    def text(self) -> str:
        """The message's text blocks joined; media and tool blocks are left out."""
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @classmethod
    def of_text(cls, role: Literal["user", "assistant", "system", "tool"], text: str) -> ChatMessage:
        return cls(role=role, content=(TextBlock(text),))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JsonOutput:
    """Structured output: the answer is one JSON value, matching `schema` when one is given.

    Each provider asks its backend in the backend's own form (OpenAI `response_format`, a forced tool
    for Anthropic and Bedrock, a llama.cpp grammar for the embedded model); the answer still arrives
    as TextDelta pieces whose concatenation is the JSON text. Models without the `structured_output`
    capability cannot take it (see ModelInfo.supports).
    """

    schema: dict[str, Any] | None = None
    name: str = "response"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What the core asks of a model. `model` is the upstream model name from the models file."""

    model: str
    messages: tuple[ChatMessage, ...]
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    response_format: JsonOutput | None = None
    # The caller reads the answer whole: deltas that arrive together may be joined before they go up
    # (a stream's are passed on one by one, each as soon as it comes).
    buffered: bool = False


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason


ProviderEvent = TextDelta | ToolCall | Usage | Finish


class ProviderError(Exception):
    """An upstream failure. `kind` decides the caller's status (timeout → 504, the rest → 502 or 4xx)."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class UnsupportedFeature(ProviderError):
    """The model or its backend cannot do what the request asks (e.g. structured output): a bad request."""

    def __init__(self, feature: str, message: str) -> None:
        super().__init__("bad_request", message)
        self.feature = feature


class UnknownModel(LookupError):
    """No model with this public id is configured (the core reports it as its own not-found error)."""

    def __init__(self, model_id: str, message: str | None = None) -> None:
        super().__init__(message or f"model {model_id!r} is not available")
        self.model_id = model_id


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    vectors: list[list[float]]
    input_tokens: int


@runtime_checkable
class Provider(Protocol):
    """A model backend. Implementations: embedded, openai, anthropic, bedrock."""

    name: str

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one completion; see the module docstring for the event order and cancellation."""
        ...

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        """Embed texts; ProviderError(kind="bad_request") where the backend cannot embed."""
        ...

    async def aclose(self) -> None:
        """Release clients, threads and model memory."""
        ...


@dataclass(slots=True)
class Pricing:
    input_per_m: float = 0.0
    output_per_m: float = 0.0
    currency: str = "USD"


@dataclass(slots=True)
class ModelInfo:
    """One public model id and how to reach it (an entry of the models file)."""

    id: str
    provider: str
    upstream_model: str
    name: str = ""
    description: str = ""
    capabilities: frozenset[str] = frozenset({"text", "streaming"})
    context_window: int = 8192
    max_output_tokens: int = 4096
    pricing: Pricing = field(default_factory=Pricing)
    deprecated: bool = False
    release_date: str | None = None

    def supports(self, capability: str) -> bool:
        """Capabilities: text, image, video, document, tools, streaming, embeddings, structured_output."""
        return capability in self.capabilities
