"""Amazon Bedrock through boto3's Converse / ConverseStream (the [bedrock] extra).

boto3 blocks, so each stream runs in a worker thread of this provider's own pool and hands the
events to the loop (see threaded.py); a cancelled stream closes the HTTP response under the thread.
Events: contentBlockStart (tool use begins), contentBlockDelta (text or tool input JSON),
contentBlockStop, messageStop (stop reason), then metadata (usage). Credentials come from the usual
AWS chain (environment, profile, instance role).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

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
from chatkeep.providers.bedrock.messages import converse_params
from chatkeep.providers.deadlines import Timeouts, with_deadlines
from chatkeep.providers.http_status import kind_for_status, retry_after_seconds
from chatkeep.providers.structured_output import ANSWER_TOOL
from chatkeep.providers.threaded import ProducerContext, stream_from_thread
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens
from chatkeep.providers.tool_blocks import ToolBlocks

_MISSING_EXTRA = "the Bedrock provider needs the [bedrock] extra: pip install 'chatkeep[bedrock]'"
_STOP: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_use",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
# Error codes, lower-cased: exceptions inside an event stream spell them camelCase.
_CODES: dict[str, ErrorKind] = {
    "throttlingexception": "rate_limited",
    "servicequotaexceededexception": "rate_limited",
    "toomanyrequestsexception": "rate_limited",
    "validationexception": "bad_request",
    "accessdeniedexception": "auth",
    "unrecognizedclientexception": "auth",
    "expiredtokenexception": "auth",
    "invalidsignatureexception": "auth",
    "resourcenotfoundexception": "not_found",
    "modeltimeoutexception": "timeout",
    "modelnotreadyexception": "unavailable",
    "serviceunavailableexception": "unavailable",
    "internalserverexception": "upstream",
    "modelstreamerrorexception": "upstream",
    "modelerrorexception": "upstream",
}
_ESTIMATE_ENCODING = "cl100k_base"  # Bedrock's models have their own tokenizers; this is an estimate


def provider_error(exc: Exception) -> ProviderError:
    """A botocore exception as a ProviderError."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", ""))
        kind = _CODES.get(code.lower()) or kind_for_status(int(meta.get("HTTPStatusCode") or 500))
        retry_after = retry_after_seconds(meta.get("HTTPHeaders")) if kind == "rate_limited" else None
        return ProviderError(kind, f"Bedrock {code}: {error.get('Message', exc)}", retry_after=retry_after)
    if isinstance(exc, boto.ConnectTimeoutError | boto.ReadTimeoutError):
        return ProviderError("timeout", f"Bedrock did not answer in time: {exc}")
    if isinstance(exc, boto.EndpointConnectionError | boto.ConnectionClosedError):
        return ProviderError("unavailable", f"cannot reach Bedrock: {exc}")
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return ProviderError("auth", f"no usable AWS credentials: {exc}")
    return ProviderError("upstream", f"Bedrock error: {exc}")


@dataclass
class _ConverseReader:
    """Turns ConverseStream events into provider events, keeping usage and the stop reason."""

    json_answer: bool = False  # structured output: the answer tool's input is the answer text
    stop_reason: str | None = None
    usage: Usage | None = None
    text: list[str] = field(default_factory=list)
    tools: ToolBlocks = field(default_factory=ToolBlocks)
    answer_blocks: set[int] = field(default_factory=set)
    called_tools: bool = False

    def read(self, event: dict[str, Any]) -> ProviderEvent | None:
        if "contentBlockDelta" in event:
            body = event["contentBlockDelta"]
            delta = body.get("delta", {})
            index = body.get("contentBlockIndex", 0)
            if "text" in delta and not self.json_answer:
                self.text.append(delta["text"])
                return TextDelta(delta["text"])
            if "toolUse" in delta and index in self.answer_blocks:
                piece = delta["toolUse"].get("input", "")
                self.text.append(piece)
                return TextDelta(piece) if piece else None
            if "toolUse" in delta and index in self.tools:
                self.tools.add(index, delta["toolUse"].get("input", ""))
        elif "contentBlockStart" in event:
            body = event["contentBlockStart"]
            tool = body.get("start", {}).get("toolUse")
            index = body.get("contentBlockIndex", 0)
            if tool is not None and self.json_answer and tool["name"] == ANSWER_TOOL:
                self.answer_blocks.add(index)
            elif tool is not None:
                self.tools.start(index, tool["toolUseId"], tool["name"])
        elif "contentBlockStop" in event:
            call = self.tools.stop(event["contentBlockStop"].get("contentBlockIndex", 0))
            self.called_tools = self.called_tools or call is not None
            return call
        elif "messageStop" in event:
            self.stop_reason = event["messageStop"].get("stopReason", "end_turn")
        elif "metadata" in event and "usage" in event["metadata"]:
            usage = event["metadata"]["usage"]
            self.usage = Usage(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)))
        return None

    def finish(self) -> FinishReason:
        reason = _STOP.get(self.stop_reason or "", "stop")
        # A call of the answer tool alone is the structured answer, not a tool call for the client.
        return "stop" if reason == "tool_use" and not self.called_tools else reason


class BedrockProvider:
    """Streams completions from Bedrock's ConverseStream; embeds with Titan or Cohere models."""

    applies_deadlines = True  # stream() runs under with_deadlines (see base)

    def __init__(
        self,
        name: str = "bedrock",
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        timeouts: Timeouts | None = None,
        max_retries: int = 2,
        max_concurrency: int = 16,
        client: Any = None,
    ) -> None:
        self.name = name
        self._region = region
        self._profile = profile
        self._endpoint_url = endpoint_url
        self._timeouts = timeouts or Timeouts()
        self._max_retries = max_retries
        self._max_concurrency = max_concurrency
        self._client = client
        # One thread per running stream; the loop's default pool is too small to lend them.
        self._executor = ThreadPoolExecutor(
            max_workers=max_concurrency, thread_name_prefix=f"chatkeep-{name}"
        )

    def _new_client(self) -> Any:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError
        except ImportError as exc:
            raise ProviderError("unavailable", _MISSING_EXTRA) from exc
        config = Config(
            connect_timeout=10,
            read_timeout=self._timeouts.total,
            retries={"max_attempts": self._max_retries + 1, "mode": "standard"},
            max_pool_connections=self._max_concurrency,
        )
        try:
            session = boto3.session.Session(profile_name=self._profile, region_name=self._region)
            return session.client("bedrock-runtime", endpoint_url=self._endpoint_url, config=config)
        except BotoCoreError as exc:  # e.g. no region configured, unknown profile
            raise ProviderError("unavailable", f"cannot set up the Bedrock client: {exc}") from exc

    async def _boto(self) -> Any:
        if self._client is None:
            # Creating a client reads service models from disk: keep it off the loop.
            self._client = await asyncio.get_running_loop().run_in_executor(self._executor, self._new_client)
        return self._client

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one completion (see base.Provider)."""
        return with_deadlines(self._stream(request), self._timeouts)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        params = converse_params(request)
        reader = _ConverseReader(json_answer=request.response_format is not None)
        opened: list[Any] = []
        client = await self._boto()  # first: a missing extra is a ProviderError, not an ImportError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            produce = functools.partial(_converse_stream, client, params, opened)
            events = stream_from_thread(produce, executor=self._executor, on_stop=lambda: _close(opened))
            async with contextlib.aclosing(events):  # leaving early must stop the thread now
                async for event in events:
                    out = reader.read(event)
                    if out is not None:
                        yield out
        except (ClientError, BotoCoreError) as exc:
            raise provider_error(exc) from exc
        if reader.stop_reason is None:
            raise ProviderError("upstream", "the Bedrock stream ended without messageStop")
        yield reader.usage or Usage(
            count_prompt_tokens(request, _ESTIMATE_ENCODING),
            count_tokens("".join(reader.text), _ESTIMATE_ENCODING),
        )
        yield Finish(reader.finish())

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        """Embed with a Titan (one call per text) or Cohere (one call) embedding model via InvokeModel."""
        if not model.startswith(("amazon.titan-embed", "cohere.embed")):
            raise ProviderError("bad_request", f"{model} is not a Titan or Cohere embedding model")
        client = await self._boto()
        from botocore.exceptions import BotoCoreError, ClientError

        call = functools.partial(_embed_sync, client, model, texts, dimensions)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except (ClientError, BotoCoreError) as exc:
            raise provider_error(exc) from exc

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()
            self._client = None


def _converse_stream(
    client: Any, params: dict[str, Any], opened: list[Any], ctx: ProducerContext[Any]
) -> None:
    """Runs in a worker thread: call ConverseStream and emit its events."""
    stream = client.converse_stream(**params)["stream"]
    opened.append(stream)
    try:
        for event in stream:
            ctx.emit(event)
    finally:
        stream.close()


def _close(opened: list[Any]) -> None:
    """Close the HTTP response a worker may be blocked reading, so it stops now."""
    for stream in opened:
        stream.close()


def _embed_sync(client: Any, model: str, texts: list[str], dimensions: int | None) -> EmbeddingResult:
    def invoke(body: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json")
        return dict(json.loads(response["body"].read()))

    if model.startswith("cohere.embed"):
        answer = invoke({"texts": texts, "input_type": "search_document"})
        vectors = [list(v) for v in answer["embeddings"]]
        return EmbeddingResult(vectors, sum(count_tokens(t, _ESTIMATE_ENCODING) for t in texts))
    vectors, tokens = [], 0
    for text in texts:
        body: dict[str, Any] = {"inputText": text, "normalize": True}
        if dimensions is not None:
            body["dimensions"] = dimensions
        answer = invoke(body)
        vectors.append(list(answer["embedding"]))
        tokens += int(answer.get("inputTextTokenCount", 0))
    return EmbeddingResult(vectors, tokens)
