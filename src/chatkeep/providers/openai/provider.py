"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server) through chatkeep's lean client.

Chat completions stream with `stream_options.include_usage`; servers that ignore it (llama.cpp's)
get their usage counted here with tiktoken. The request goes through client.OpenAIClient (one pool,
the SDK's retry rules) and the body is read by sse.read_chunks; both raise ProviderError kinds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx2

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
from chatkeep.providers.openai.client import OpenAIClient
from chatkeep.providers.openai.messages import completion_params
from chatkeep.providers.openai.sse import read_chunks
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens, encoding_for_model

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}


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

    def read(self, chunk: dict[str, Any]) -> str | None:
        """Take in one chunk (plain JSON, see sse.py); the text it carries, if any."""
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
            return content
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
        http: httpx2.AsyncClient | None = None,
    ) -> None:
        """`http` replaces the client's own connection pool (tests, or one pool shared by several)."""
        self.name = name
        self._base_url = base_url
        self._api_key = api_key
        self._timeouts = timeouts or Timeouts()
        self._max_retries = max_retries
        self._headers = dict(headers or {})
        self._tokenizer = tokenizer
        self._http = http
        self._client: OpenAIClient | None = None

    def _upstream(self) -> OpenAIClient:
        if self._client is None:
            self._client = OpenAIClient(
                self._base_url,
                api_key=self._api_key,
                timeout=self._timeouts.total,
                max_retries=self._max_retries,
                headers=self._headers,
                http=self._http,
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
        body = {**completion_params(request), "stream": True, "stream_options": {"include_usage": True}}
        reader = _ChunkReader()
        response = await self._upstream().stream("/chat/completions", body)
        try:
            async with aclosing(read_chunks(response, gather=request.buffered)) as batches:
                async for batch in batches:
                    # The text of chunks that arrived together goes up as one delta (see read_chunks).
                    texts = [text for text in map(reader.read, batch) if text]
                    if texts:
                        yield TextDelta(texts[0] if len(texts) == 1 else "".join(texts))
        finally:
            # Unread: this closes the connection, which is how the upstream learns of a cancel.
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
        body: dict[str, Any] = {"model": model, "input": texts, "encoding_format": "float"}
        if dimensions is not None:
            body["dimensions"] = dimensions
        answer = await self._upstream().json("/embeddings", body)
        try:
            items = sorted(answer["data"], key=lambda d: d["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in items]
            reported = int((answer.get("usage") or {}).get("prompt_tokens") or 0)
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ProviderError("upstream", "the model server's embeddings answer is malformed") from exc
        tokens = reported or sum(count_tokens(t, self.encoding(model)) for t in texts)
        return EmbeddingResult(vectors=vectors, input_tokens=tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        elif self._http is not None:
            await self._http.aclose()
