"""Read a chat-completions event stream as plain dicts, the way the `openai` SDK reads it, minus its cost.

The SDK builds a pydantic model per chunk through generic type introspection: about 0.2 ms each, most of
a streamed turn's CPU in chatkeep. We keep the SDK for the request (auth, retries, status errors) and read
the body here with orjson. Semantics follow the SDK's `AsyncStream`: `data:` lines joined per event,
`[DONE]` ends the stream (the rest of the body is drained briefly so the connection can be reused), a
chunk carrying `error` raises `openai.APIError`, and transport failures while reading become
`APITimeoutError` / `APIConnectionError`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import httpx2
import openai
import orjson

_TIMEOUTS = (httpx2.TimeoutException, httpx.TimeoutException)
_TRANSPORT = (httpx2.RequestError, httpx.RequestError, ssl.SSLError, anyio.EndOfStream)
_DRAIN_SECONDS = 0.1  # the SDK's own bound on reading past [DONE]


async def read_chunks(response: httpx2.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON chunks of a streamed chat completion; ValueError for a `data:` payload that is not JSON."""
    lines = _lines(response.aiter_bytes())
    data: list[bytes] = []
    try:
        async for line in lines:
            if line:
                field, _, value = line.partition(b":")
                if field == b"data":
                    data.append(value[1:] if value.startswith(b" ") else value)
                continue  # `event:`, `id:`, `retry:` and comments carry nothing a chat completion needs
            if not data:
                continue
            payload, data = b"\n".join(data), []
            if payload.startswith(b"[DONE]"):
                await _drain(lines)
                return
            chunk = _json(payload)
            if not isinstance(chunk, dict):
                raise ValueError(f"a stream chunk must be a JSON object, not {type(chunk).__name__}")
            if chunk.get("error"):
                raise _stream_error(response, chunk["error"])
            yield chunk
    except _TIMEOUTS as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except _TRANSPORT as exc:
        raise openai.APIConnectionError(request=response.request) from exc


async def _lines(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's lines, split on \\r\\n, \\n or \\r as SSE allows; bytes, not text: decoding each line
    through httpx's text and line decoders cost more than everything else done per chunk."""
    rest = b""
    async for piece in pieces:
        buffer = rest + piece
        tail = b""
        if buffer.endswith(b"\r"):  # maybe the first half of \r\n: decide with the next piece
            buffer, tail = buffer[:-1], b"\r"
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *complete, rest = buffer.split(b"\n")
        rest += tail
        for line in complete:
            yield line
    if rest.rstrip(b"\r"):
        yield rest.rstrip(b"\r")


def _json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        # Invalid UTF-8 inside otherwise good JSON: decode with replacement characters, as a text reader does.
        return orjson.loads(payload.decode("utf-8", errors="replace"))


def _stream_error(response: httpx2.Response, error: Any) -> openai.APIError:
    message = error.get("message") if isinstance(error, dict) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return openai.APIError(message=message, request=response.request, body=error)


async def _drain(lines: AsyncIterator[bytes]) -> None:
    """Read what follows [DONE] (usually just the end of the chunked body), within a short bound."""
    # The answer is complete: a failure while draining must not turn it into an error.
    with anyio.move_on_after(_DRAIN_SECONDS), contextlib.suppress(*_TIMEOUTS, *_TRANSPORT):
        async for _ in lines:
            pass
