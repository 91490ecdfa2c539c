"""Anthropic's Messages API through the official `anthropic` SDK (the [anthropic] extra).

Streams raw Messages events: text deltas pass straight through, tool_use blocks are collected from
their `input_json_delta` pieces and emitted whole when the block stops, usage comes from
`message_start` (input) and `message_delta` (cumulative output).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatkeep.providers.anthropic.messages import message_params
from chatkeep.providers.base import (
    ChatRequest,
    EmbeddingResult,
    ErrorKind,
    Finish,
    FinishReason,
    ProviderError,
    ProviderEvent,
    TextDelta,
    Usage,
)
from chatkeep.providers.deadlines import Timeouts, with_deadlines
from chatkeep.providers.http_status import kind_for_status, retry_after_seconds
from chatkeep.providers.structured_output import ANSWER_TOOL
from chatkeep.providers.tool_blocks import ToolBlocks

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

_MISSING_EXTRA = "the Anthropic provider needs the [anthropic] extra: pip install 'chatkeep[anthropic]'"
_STOP: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_use",
    "refusal": "content_filter",
}
# The `error.type` of an Anthropic error body; it also arrives inside a 200 stream as an `error` event.
_ERROR_TYPES: dict[str, ErrorKind] = {
    "invalid_request_error": "bad_request",
    "request_too_large": "bad_request",
    "authentication_error": "auth",
    "permission_error": "auth",
    "not_found_error": "not_found",
    "rate_limit_error": "rate_limited",
    "overloaded_error": "unavailable",
    "api_error": "upstream",
}


def provider_error(exc: Exception) -> ProviderError:
    """An `anthropic` SDK exception as a ProviderError."""
    import anthropic

    if isinstance(exc, anthropic.APITimeoutError):  # before APIConnectionError: it is a subclass
        return ProviderError("timeout", "Anthropic did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError("unavailable", f"cannot reach Anthropic: {exc}")
    if isinstance(exc, anthropic.APIStatusError):
        error_type = _error_type(exc.body)
        kind = _ERROR_TYPES.get(error_type or "") or (
            "unavailable" if exc.status_code == 529 else kind_for_status(exc.status_code)
        )
        retry_after = retry_after_seconds(exc.response.headers) if kind == "rate_limited" else None
        return ProviderError(
            kind,
            f"Anthropic answered {error_type or exc.status_code}: {exc.message}",
            retry_after=retry_after,
        )
    return ProviderError("upstream", f"Anthropic error: {exc}")


def _error_type(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("type"), str):
            return str(error["type"])
    return None


@dataclass
class _EventReader:
    """Turns raw Messages stream events into provider events, keeping usage and the stop reason."""

    json_answer: bool = False  # structured output: the answer tool's input is the answer text
    input_tokens: int | None = None
    output_tokens: int = 0
    stop_reason: str | None = None
    tools: ToolBlocks = field(default_factory=ToolBlocks)
    answer_blocks: set[int] = field(default_factory=set)
    called_tools: bool = False

    def read(self, event: Any) -> ProviderEvent | None:
        kind = event.type
        if kind == "message_start":
            self._usage(event.message.usage)
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use" and self.json_answer and block.name == ANSWER_TOOL:
                self.answer_blocks.add(event.index)
            elif block.type == "tool_use":
                self.tools.start(event.index, block.id, block.name)
            elif block.type == "text" and block.text and not self.json_answer:
                return TextDelta(block.text)
        elif kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta" and not self.json_answer:
                return TextDelta(delta.text)
            if delta.type == "input_json_delta" and event.index in self.answer_blocks:
                return TextDelta(delta.partial_json) if delta.partial_json else None
            if delta.type == "input_json_delta" and event.index in self.tools:
                self.tools.add(event.index, delta.partial_json)
        elif kind == "content_block_stop":
            call = self.tools.stop(event.index)
            self.called_tools = self.called_tools or call is not None
            return call
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._usage(event.usage)
        return None

    def finish(self) -> FinishReason:
        reason = _STOP.get(self.stop_reason or "", "stop")
        # A call of the answer tool alone is the structured answer, not a tool call for the client.
        return "stop" if reason == "tool_use" and not self.called_tools else reason

    def _usage(self, usage: Any) -> None:
        if usage is None:
            return
        if usage.input_tokens is not None:
            # Cached prompt tokens are reported apart from input_tokens; all of them were read.
            cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
            self.input_tokens = usage.input_tokens + cached
        self.output_tokens = usage.output_tokens or self.output_tokens


class AnthropicProvider:
    """Streams completions from Anthropic's Messages API."""

    applies_deadlines = True  # stream() runs under with_deadlines (see base)

    def __init__(
        self,
        name: str = "anthropic",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeouts: Timeouts | None = None,
        max_retries: int = 2,
        client: AsyncAnthropic | None = None,
    ) -> None:
        self.name = name
        self._api_key = api_key
        self._base_url = base_url
        self._timeouts = timeouts or Timeouts()
        self._max_retries = max_retries
        self._client = client

    def _sdk(self) -> AsyncAnthropic:
        if self._client is None:
            try:
                from anthropic import AsyncAnthropic
            except ImportError as exc:
                raise ProviderError("unavailable", _MISSING_EXTRA) from exc
            if not (
                self._api_key or os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
            ):
                # The SDK would fail later with a TypeError; say what is missing instead.
                raise ProviderError("auth", f"provider {self.name}: no Anthropic API key is configured")
            self._client = AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=self._timeouts.total,
                max_retries=self._max_retries,
            )
        return self._client

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one completion (see base.Provider)."""
        return with_deadlines(self._stream(request), self._timeouts)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        params = message_params(request)
        sdk = self._sdk()  # first: a missing extra is a ProviderError, not an ImportError
        import anthropic

        reader = _EventReader(json_answer=request.response_format is not None)
        try:
            events = await sdk.messages.create(**params, stream=True)
        except anthropic.AnthropicError as exc:
            raise provider_error(exc) from exc
        try:
            async for event in events:
                out = reader.read(event)
                if out is not None:
                    yield out
        except anthropic.AnthropicError as exc:
            raise provider_error(exc) from exc
        finally:
            await events.close()
        if reader.stop_reason is None or reader.input_tokens is None:
            raise ProviderError("upstream", "the Anthropic stream ended before message_delta")
        yield Usage(input_tokens=reader.input_tokens, output_tokens=reader.output_tokens)
        yield Finish(reader.finish())

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        raise ProviderError("bad_request", "Anthropic offers no embeddings model")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
