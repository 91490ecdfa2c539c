"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server) through the official `openai` SDK.

Chat completions stream with `stream_options.include_usage`; servers that ignore it (llama.cpp's)
get their usage counted here with tiktoken. SDK errors become ProviderError kinds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from chatkeep.providers.base import (
    ChatRequest,
    EmbeddingResult,
    Finish,
    FinishReason,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from chatkeep.providers.deadlines import Timeouts, with_deadlines
from chatkeep.providers.http_status import kind_for_status, retry_after_seconds
from chatkeep.providers.openai_messages import completion_params
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens, encoding_for_model

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}
# Local servers need no key, but the SDK refuses to start without one.
_NO_KEY = "not-needed"


def provider_error(exc: Exception) -> ProviderError:
    """An `openai` SDK exception as a ProviderError."""
    import openai

    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is a subclass
        return ProviderError("timeout", "the model server did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("unavailable", f"cannot reach the model server: {exc}")
    if isinstance(exc, openai.APIStatusError):
        kind = kind_for_status(exc.status_code)
        retry_after = retry_after_seconds(exc.response.headers) if kind == "rate_limited" else None
        return ProviderError(
            kind, f"model server answered {exc.status_code}: {exc.message}", retry_after=retry_after
        )
    return ProviderError("upstream", f"model server error: {exc}")


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _ChunkReader:
    """Collects what arrives over a chat-completions stream beyond the text deltas."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, _PendingCall] = field(default_factory=dict)
    finish: FinishReason | None = None
    usage: Usage | None = None

    def read(self, chunk: dict[str, Any]) -> TextDelta | None:
        """Take in one chunk (plain JSON, see openai_sse); the text delta it carries, if any."""
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
        choices = chunk.get("choices")
        if not choices:
            return None
        choice = choices[0]
        delta = choice.get("delta") or {}
        for call in delta.get("tool_calls") or []:
            pending = self.calls.setdefault(call.get("index", 0), _PendingCall())
            pending.id = call.get("id") or pending.id
            function = call.get("function")
            if function is not None:
                pending.name = function.get("name") or pending.name
                pending.arguments.append(function.get("arguments") or "")
        if choice.get("finish_reason"):
            self.finish = _FINISH.get(choice["finish_reason"], "stop")
        content = delta.get("content")
        if content:
            self.text.append(content)
            return TextDelta(content)
        return None

    def tool_calls(self) -> list[ToolCall]:
        out = []
        for index in sorted(self.calls):
            call = self.calls[index]
            raw = "".join(call.arguments) or "{}"
            try:
                arguments = json.loads(raw)
            except json.JSONDecodeError:
                raise ProviderError(
                    "upstream", f"tool call {call.name!r} has invalid JSON arguments"
                ) from None
            out.append(ToolCall(id=call.id or f"call_{index}", name=call.name, input=arguments))
        return out


class OpenAICompatProvider:
    """Streams chat completions from an OpenAI-compatible server."""

    applies_deadlines = True  # stream() runs under with_deadlines (see base)

    def __init__(
        self,
        name: str = "openai",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeouts: Timeouts | None = None,
        max_retries: int = 2,
        headers: Mapping[str, str] | None = None,
        tokenizer: str | None = None,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.name = name
        self._base_url = base_url
        self._api_key = api_key
        self._timeouts = timeouts or Timeouts()
        self._max_retries = max_retries
        self._headers = dict(headers or {})
        self._tokenizer = tokenizer
        self._client = client

    def _sdk(self) -> AsyncOpenAI:
        if self._client is None:
            try:
                from openai import AsyncOpenAI
            except ImportError as exc:
                raise ProviderError("unavailable", "the openai package is not installed") from exc
            self._client = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key or _NO_KEY,
                timeout=self._timeouts.total,
                max_retries=self._max_retries,
                default_headers=self._headers or None,
            )
        return self._client

    def encoding(self, model: str) -> str:
        """The tiktoken encoding used to count this server's tokens when it reports none."""
        return self._tokenizer or encoding_for_model(model)

    def count_tokens(self, text: str, *, model: str) -> int:
        return count_tokens(text, self.encoding(model))

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one completion (see base.Provider)."""
        return with_deadlines(self._stream(request), self._timeouts)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        params = completion_params(request)
        sdk = self._sdk()  # first: a missing package is a ProviderError, not an ImportError
        import httpx2
        import openai

        from chatkeep.providers.openai_sse import read_chunks

        reader = _ChunkReader()
        body = {**params, "stream": True, "stream_options": {"include_usage": True}}
        try:
            # The SDK's generic `post`, as for any endpoint: it still sends the request, retries and raises
            # status errors, but skips `create`'s type-driven walk over every message (a no-op for these
            # plain JSON params) and hands back the unread response, which openai_sse reads without building
            # a pydantic model per chunk. Both costs were most of a turn's CPU.
            response = cast(
                "httpx2.Response",
                await sdk.post(
                    "/chat/completions",
                    cast_to=httpx2.Response,
                    body=body,
                    stream=True,
                    stream_cls=openai.AsyncStream[Any],
                ),
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc) from exc
        try:
            async for chunk in read_chunks(response):
                delta = reader.read(chunk)
                if delta is not None:
                    yield delta
        except openai.OpenAIError as exc:
            raise provider_error(exc) from exc
        except ValueError as exc:  # a `data:` line that is not a JSON object
            raise ProviderError("upstream", f"the model server sent a malformed stream: {exc}") from exc
        finally:
            await response.aclose()
        if reader.finish is None:
            raise ProviderError("upstream", "the model server ended the stream without a finish reason")
        calls = reader.tool_calls()
        for call in calls:
            yield call
        yield reader.usage or self._counted_usage(request, reader.text, calls)
        yield Finish(reader.finish)

    def _counted_usage(self, request: ChatRequest, text: list[str], calls: list[ToolCall]) -> Usage:
        encoding = self.encoding(request.model)
        output = "".join(text) + "".join(c.name + json.dumps(c.input) for c in calls)
        return Usage(
            input_tokens=count_prompt_tokens(request, encoding),
            output_tokens=count_tokens(output, encoding),
        )

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        """Vectors from the server's embeddings endpoint, in input order."""
        sdk = self._sdk()
        import openai

        extra: dict[str, Any] = {} if dimensions is None else {"dimensions": dimensions}
        try:
            response = await sdk.embeddings.create(model=model, input=texts, encoding_format="float", **extra)
        except openai.OpenAIError as exc:
            raise provider_error(exc) from exc
        vectors = [list(item.embedding) for item in sorted(response.data, key=lambda d: d.index)]
        reported = response.usage.prompt_tokens if response.usage is not None else 0
        tokens = reported or sum(count_tokens(t, self.encoding(model)) for t in texts)
        return EmbeddingResult(vectors=vectors, input_tokens=tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
