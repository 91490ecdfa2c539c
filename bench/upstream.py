"""A mock OpenAI-compatible upstream for the gateway benchmark, run as its own process.

    python bench/upstream.py --port 8101 [--deltas 64] [--interval 0.02]

`POST /v1/chat/completions` answers every request the same way, chosen by the requested model name:
a name containing `buffered` gets everything at once (a JSON completion, or the whole SSE stream in one
write when `stream` is true); any other name gets `--deltas` SSE chunks, the i-th sent at i x `--interval`
after the request arrived (absolute times, so the cadence never drifts), then a usage chunk and `[DONE]`;
a name containing `long` gets `--long-deltas` chunks every `--long-interval` (default: `--interval`; streams
that outlast the opening of a thousand others, for the benchmark's streams-held-at-once ladder).
`GET /v1/models` lists two models; `POST /v1/traces` accepts (and drops) OTLP spans. Every byte of every
answer is encoded once at start, and the server is raw asyncio with httptools' C parser on uvloop, so it
costs microseconds per frame and is never the bottleneck of a benchmark that puts a Python gateway in
front of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from dataclasses import dataclass

import httptools
import orjson

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

WORD = "tok "
CREATED = 1_700_000_000


@dataclass(frozen=True, slots=True)
class Answers:
    """Every response the upstream sends, as ready-to-write bytes (chunked transfer encoding included)."""

    stream_head: bytes
    stream_chunks: tuple[bytes, ...]
    stream_tail: bytes
    buffered_json: bytes
    models_json: bytes
    not_found: bytes
    traces_accepted: bytes


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _sse(obj: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        "connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def build_answers(deltas: int) -> Answers:
    """Encode the stream (one text delta per chunk, usage last) and the buffered completion once."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": "mock"}
    chunks = []
    for i in range(deltas):
        delta: dict[str, str] = {"role": "assistant", "content": WORD} if i == 0 else {"content": WORD}
        chunks.append(
            _chunk(_sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))
        )
    usage = {"prompt_tokens": 16, "completion_tokens": deltas, "total_tokens": 16 + deltas}
    finish = _sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    tail = finish + _sse({**base, "choices": [], "usage": usage}) + b"data: [DONE]\n\n"
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
    )
    completion = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": CREATED,
        "model": "mock",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": WORD * deltas},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    models = {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "bench"}
            for name in ("stream", "buffered", "stream-long")
        ],
    }
    return Answers(
        stream_head=head,
        stream_chunks=tuple(chunks),
        stream_tail=_chunk(tail) + b"0\r\n\r\n",
        buffered_json=_response("200 OK", "application/json", orjson.dumps(completion)),
        models_json=_response("200 OK", "application/json", orjson.dumps(models)),
        not_found=_response("404 Not Found", "application/json", b'{"error":{"message":"not found"}}'),
        traces_accepted=_response("200 OK", "application/x-protobuf", b""),
    )


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive connection; requests are answered one after another, as HTTP/1.1 clients send them."""

    def __init__(self, answers: Answers, interval: float, long_deltas: int, long_interval: float) -> None:
        self.answers = answers
        self.interval = interval
        self.long_deltas = long_deltas
        self.long_interval = long_interval
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.transport = None

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        transport = self.transport
        if transport is None:
            return
        path = self.url.split(b"?", 1)[0]
        if path.endswith(b"/chat/completions"):
            self._complete(transport, b"".join(self.body))
        elif path.endswith(b"/models"):
            transport.write(self.answers.models_json)
        elif path.endswith(b"/v1/traces"):  # an OTLP/HTTP sink for the traced chatkeep arm
            transport.write(self.answers.traces_accepted)
        else:
            transport.write(self.answers.not_found)

    # -- answers
    def _complete(self, transport: asyncio.Transport, raw: bytes) -> None:
        try:
            request = orjson.loads(raw)
        except orjson.JSONDecodeError:
            transport.write(self.answers.not_found)
            return
        buffered = "buffered" in str(request.get("model", ""))
        if not request.get("stream"):
            transport.write(self.answers.buffered_json)
        elif buffered:
            transport.write(
                b"".join((self.answers.stream_head, *self.answers.stream_chunks, self.answers.stream_tail))
            )
        else:
            long = "long" in str(request.get("model", ""))
            count = self.long_deltas if long else len(self.answers.stream_chunks)
            transport.write(self.answers.stream_head)
            self._send(0, self.loop.time(), count, self.long_interval if long else self.interval)

    def _send(self, index: int, started: float, count: int, interval: float) -> None:
        """Write chunk `index` of `count` and schedule the next one at its absolute time."""
        self.timer = None
        transport = self.transport
        if transport is None:
            return
        chunks = self.answers.stream_chunks
        transport.write(chunks[min(index, len(chunks) - 1)])  # the first carries the role, the rest alike
        if index + 1 < count:
            self.timer = self.loop.call_at(
                started + (index + 1) * interval, self._send, index + 1, started, count, interval
            )
        else:
            transport.write(self.answers.stream_tail)


async def serve(
    host: str, port: int, deltas: int, interval: float, long_deltas: int, long_interval: float
) -> None:
    answers = build_answers(deltas)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: UpstreamProtocol(answers, interval, long_deltas, long_interval),
        host,
        port,
        backlog=4096,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"upstream ready on http://{host}:{port} pid {os.getpid()}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--deltas", type=int, default=64, help="text chunks per streamed answer")
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between streamed chunks")
    parser.add_argument("--long-deltas", type=int, default=400, help="text chunks for a `long` model")
    parser.add_argument("--long-interval", type=float, help="seconds between a `long` model's chunks")
    args = parser.parse_args()
    run = uvloop.run if uvloop is not None else asyncio.run
    long_interval = args.interval if args.long_interval is None else args.long_interval
    run(serve(args.host, args.port, args.deltas, args.interval, args.long_deltas, long_interval))


if __name__ == "__main__":
    main()
