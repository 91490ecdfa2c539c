"""Read a chat-completions event stream as plain dicts, incrementally, with orjson and no model per chunk.

The `openai` SDK builds a pydantic model per chunk through generic type introspection: about 0.2 ms each,
once most of a streamed turn's CPU in chatkeep. Semantics follow the SDK's `AsyncStream`: `data:` lines
joined per event, `[DONE]` ends the stream (the rest of the body is drained briefly so the connection can
be reused). Failures are ProviderErrors: a chunk carrying `error` and a payload that is not a JSON object
are "upstream", a read timeout "timeout", a connection cut mid-stream "unavailable".

The lines are split here on bytes rather than through httpx-sse, which reads `aiter_lines()` (httpx's
text and line decoders per piece): bench/upstream_client.py measures both.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
import httpx2
import orjson

from chatkeep.providers.base import ProviderError

_TIMEOUTS = (httpx2.TimeoutException,)
_TRANSPORT = (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream)
_DRAIN_SECONDS = 0.1  # the SDK's own bound on reading past [DONE]


async def read_chunks(
    response: httpx2.Response, *, gather: bool = True
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """The JSON chunks of a streamed chat completion, in batches: the chunks that arrived together (one
    read from the connection). ProviderError on any failure (see the module), raised after the chunks that
    preceded it in their read were yielded, so a partial answer keeps every delta that came.

    Batches are what keeps a busy gateway cheap: a loaded upstream (or one that answers at once) sends
    many chunks per read, and each event passed up through the provider, the deadlines and the turn costs
    the same whatever text it carries. `gather` False: batches are what one read of httpx gives (its
    HTTP chunks one by one), without the task `_together` runs: cheaper per chunk for a stream whose
    chunks come one at a time.
    """
    # Raw bytes skip httpx's decoder chain, which only matters for a compressed body (rare for SSE); a
    # body already read (a response built from bytes) is only offered decoded.
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    raw = not encoded and not response.is_stream_consumed
    body = response.aiter_raw() if raw else response.aiter_bytes()
    together = _together(body) if gather else body
    pieces = _lines(together)
    data: list[bytes] = []
    batch: list[dict[str, Any]] = []
    try:
        async for lines in pieces:
            for line in lines:
                if line:
                    field, _, value = line.partition(b":")
                    if field == b"data":
                        data.append(value[1:] if value.startswith(b" ") else value)
                    continue  # `event:`, `id:`, `retry:` and comments carry nothing a chat completion needs
                if not data:
                    continue
                payload, data = b"\n".join(data), []
                if payload.startswith(b"[DONE]"):
                    if batch:
                        yield batch
                    await _drain(pieces)
                    return
                batch.append(_chunk(payload))
            if batch:
                yield batch
                batch = []
    except _TIMEOUTS as exc:
        raise ProviderError("timeout", "the model server stopped sending in time") from exc
    except _TRANSPORT as exc:
        raise ProviderError(
            "unavailable", f"the model server's stream broke off: {exc or type(exc).__name__}"
        ) from exc
    except ProviderError:
        if batch:  # what came before the failure in the same read is still the answer's
            yield batch
        raise
    finally:
        # Stops _together's reading task (or the body's iteration), read to the end or not.
        aclose = getattr(together, "aclose", None)
        if aclose is not None:
            await aclose()


def _chunk(payload: bytes) -> dict[str, Any]:
    chunk = _json(payload)
    if not isinstance(chunk, dict):
        raise ProviderError(
            "upstream",
            "the model server sent a malformed stream: a chunk must be a JSON object, "
            f"not {type(chunk).__name__}",
        )
    if chunk.get("error"):
        raise _stream_error(chunk["error"])
    return chunk


async def _together(pieces: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The body's pieces, those already received when the reader comes for more joined into one.

    httpx hands over a chunked body one HTTP chunk at a time, however many arrived in one read, and an
    upstream sends each SSE event as its own chunk. A task of its own reads them as they come (without
    waiting when they are already buffered); the reader takes everything gathered since it last came. A
    busy process, whose reader comes late, then handles many deltas in one pass instead of one pass each.
    """
    gathered: list[bytes] = []
    arrived = asyncio.Event()
    failure: list[BaseException] = []
    finished = False

    async def pump() -> None:
        nonlocal finished
        try:
            async for piece in pieces:
                gathered.append(piece)
                arrived.set()
        except Exception as exc:  # handed to the reader, which raises it as its own
            failure.append(exc)
        finally:
            finished = True
            arrived.set()

    task = asyncio.create_task(pump())
    try:
        while True:
            if not gathered and not finished:
                await arrived.wait()
                arrived.clear()
            if gathered:
                data = gathered[0] if len(gathered) == 1 else b"".join(gathered)
                gathered.clear()
                yield data
            elif finished:
                if failure:
                    raise failure[0]
                return
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        aclose = getattr(pieces, "aclose", None)
        if aclose is not None:
            await aclose()


async def _lines(pieces: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    """The body's complete lines per piece read, split on \\r\\n, \\n or \\r as SSE allows; bytes, not
    text: decoding each line through httpx's text and line decoders cost more than everything else done
    per chunk."""
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
        if complete:
            yield complete
    if rest.rstrip(b"\r"):
        yield [rest.rstrip(b"\r")]


def _json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        # Invalid UTF-8 inside otherwise good JSON: decode with replacement characters, as a text reader does.
        return orjson.loads(payload.decode("utf-8", errors="replace"))
    except orjson.JSONDecodeError as exc:
        raise ProviderError("upstream", f"the model server sent a malformed stream: {exc}") from exc


def _stream_error(error: Any) -> ProviderError:
    message = error.get("message") if isinstance(error, dict) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return ProviderError("upstream", f"model server error: {message}")


async def _drain(lines: AsyncIterator[list[bytes]]) -> None:
    """Read what follows [DONE] (usually just the end of the chunked body), within a short bound."""
    # The answer is complete: a failure while draining must not turn it into an error.
    with anyio.move_on_after(_DRAIN_SECONDS), contextlib.suppress(*_TIMEOUTS, *_TRANSPORT):
        async for _ in lines:
            pass
