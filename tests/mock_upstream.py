"""A fault-injecting OpenAI-compatible upstream in its own process: `python -m tests.mock_upstream --port N`.

The requested model name chooses the behaviour, so tests running side by side need no shared state:

    stream[:deltas=N,interval=S]   N text deltas (default 5) every S seconds (default 0.02), then usage
    hang[:delay=S]                 accept the request, send nothing for S seconds (default 60)
    stall[:delay=S]                send the response headers, then nothing for S seconds (default 60)
    http-500                       500 with an OpenAI error body
    http-429[:after=S]             429 with `Retry-After: S` (default 1)
    flaky[:fails=K]                the first K attempts of a request (by the SDK's retry counter) answer
                                   503, later ones stream normally
    malformed[:after=K]            K good deltas, then a `data:` line that is not JSON
    cut[:after=K,interval=S]       K deltas, then the socket is closed inside the chunked body
    json                           the JSON object {"name": "Ada", "age": 36} in a few deltas
    tool                           one call of `get_weather` with {"city": "Paris"}, finish tool_calls

`POST /v1/embeddings` answers every input with a small vector derived from its length.

Every delta is `w<i> ` (so a partial answer is predictable). The last user message is recorded as
`marker`: tests put a unique word there to find their requests in `GET /_mock/requests?marker=…`,
which lists per request when it started, how many deltas went out, and when the client went away
before the response was complete (`disconnected_at`, wall-clock seconds) — cancellation as the
upstream sees it. Raw asyncio rather than a framework, so cuts and malformed bodies are exact.
Every response closes its connection (`Connection: close`), which keeps disconnect detection simple.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

SCENARIOS = ("stream", "hang", "stall", "http-500", "http-429", "flaky", "malformed", "cut", "json", "tool")
JSON_ANSWER = ['{"name": ', '"Ada", ', '"age": 36}']
_ids = itertools.count(1)


@dataclass
class Record:
    """What the upstream saw of one chat-completions request."""

    id: int
    model: str
    scenario: str
    marker: str
    stream: bool
    retry_count: int
    started_at: float
    deltas_sent: int = 0
    status: int = 0
    finished_at: float | None = None
    disconnected_at: float | None = None


@dataclass
class Scenario:
    name: str
    params: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, model: str) -> Scenario:
        name, _, raw = model.partition(":")
        params = {}
        for pair in filter(None, raw.split(",")):
            key, _, value = pair.partition("=")
            params[key.strip()] = float(value)
        return cls(name if name in SCENARIOS else "stream", params)

    def get(self, key: str, default: float) -> float:
        return self.params.get(key, default)


class ClientGone(Exception):
    """The client closed its end before the response was complete."""


class Exchange:
    """One request on one connection; notices the client leaving while the response is produced."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Record) -> None:
        self.writer = writer
        self.record = record
        self.gone = asyncio.Event()
        self.closing = False  # set when this side ends the exchange, so EOF then is not a disconnect
        # The client sends nothing more after its request (no pipelining), so a read that returns
        # means its end was closed.
        self._watch = asyncio.create_task(self._watch_eof(reader))

    async def _watch_eof(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read(1)
        if self.closing:
            return
        self.record.disconnected_at = self.record.disconnected_at or time.time()
        self.gone.set()

    async def pause(self, seconds: float) -> None:
        """Sleep, but raise ClientGone at once if the client leaves meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.gone.wait()
        if self.gone.is_set():
            raise ClientGone

    async def send(self, data: bytes) -> None:
        if self.gone.is_set():
            raise ClientGone
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError:
            self.record.disconnected_at = self.record.disconnected_at or time.time()
            raise ClientGone from None

    async def head(self, status: int, headers: dict[str, str]) -> None:
        self.record.status = status
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        await self.head(
            status,
            {"Content-Type": "application/json", "Content-Length": str(len(payload)), **(headers or {})},
        )
        await self.send(payload)

    async def chunk(self, data: bytes) -> None:
        await self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    async def event(self, payload: Any) -> None:
        await self.chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def close(self) -> None:
        self.closing = True
        self._watch.cancel()
        self.writer.close()


_REASONS = {
    200: "OK",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Unavailable",
}


class MockUpstream:
    def __init__(self) -> None:
        self.records: list[Record] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, target, headers, body = await _read_request(reader)
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            writer.close()
            return
        path = urlsplit(target).path
        if method == "POST" and path == "/v1/chat/completions":
            await self.chat(reader, writer, headers, body)
            return
        if method == "POST" and path == "/v1/embeddings":
            request = json.loads(body or b"{}")
            texts = request.get("input") or []
            texts = [texts] if isinstance(texts, str) else texts
            size = int(request.get("dimensions") or 8)
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(str(t)) % 7 + 1)] * size}
                for i, t in enumerate(texts)
            ]
            usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
            await _reply(writer, 200, {"object": "list", "data": data, "model": "mock", "usage": usage})
        elif method == "GET" and path == "/v1/models":
            data = [{"id": name, "object": "model", "owned_by": "mock"} for name in SCENARIOS]
            await _reply(writer, 200, {"object": "list", "data": data})
        elif method == "GET" and path == "/_mock/requests":
            marker = parse_qs(urlsplit(target).query).get("marker", [None])[0]
            rows = [asdict(r) for r in self.records if marker is None or r.marker == marker]
            await _reply(writer, 200, rows)
        elif method == "GET" and path == "/_mock/health":
            await _reply(writer, 200, {"ok": True})
        else:
            await _reply(writer, 404, {"error": {"message": f"no route {method} {path}"}})

    async def chat(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str], body: bytes
    ) -> None:
        request = json.loads(body or b"{}")
        model = str(request.get("model", "stream"))
        record = Record(
            id=next(_ids),
            model=model,
            scenario=Scenario.parse(model).name,
            marker=_last_user_text(request.get("messages", [])),
            stream=bool(request.get("stream")),
            retry_count=int(headers.get("x-stainless-retry-count", "0") or 0),
            started_at=time.time(),
        )
        self.records.append(record)
        exchange = Exchange(reader, writer, record)
        try:
            await _ANSWERS[record.scenario](exchange, Scenario.parse(model), request)
            record.finished_at = time.time()
        except ClientGone:
            pass
        finally:
            exchange.close()


async def _reply(writer: asyncio.StreamWriter, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError):
        writer.write(head.encode() + payload)
        await writer.drain()
    writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _chunk(request: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "mock"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(request: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", [])) + 5
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


async def _stream_deltas(exchange: Exchange, request: dict[str, Any], count: int, interval: float) -> None:
    for i in range(count):
        if i:
            await exchange.pause(interval)
        await exchange.event(
            _chunk(request, {"content": f"w{i} "} if i else {"role": "assistant", "content": "w0 "})
        )
        exchange.record.deltas_sent += 1


async def _sse_head(exchange: Exchange) -> None:
    await exchange.head(200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"})


async def answer_stream(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    count, interval = int(scenario.get("deltas", 5)), scenario.get("interval", 0.02)
    if not request.get("stream"):
        text = "".join(f"w{i} " for i in range(count))
        message = {"role": "assistant", "content": text}
        await exchange.json(
            200,
            {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": _usage(request, count),
            },
        )
        return
    await _sse_head(exchange)
    await _stream_deltas(exchange, request, count, interval)
    await exchange.event(_chunk(request, {}, finish="stop"))
    if (request.get("stream_options") or {}).get("include_usage"):
        await exchange.event({**_chunk(request, {}), "choices": [], "usage": _usage(request, count)})
    await exchange.chunk(b"data: [DONE]\n\n")
    await exchange.send(b"0\r\n\r\n")


async def answer_hang(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await exchange.pause(scenario.get("delay", 60))
    await answer_stream(exchange, Scenario("stream"), request)


async def answer_stall(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await _sse_head(exchange)
    await exchange.pause(scenario.get("delay", 60))
    await _stream_deltas(exchange, request, 1, 0)


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def answer_500(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await exchange.json(500, _error("the mock upstream failed", "server_error"))


async def answer_429(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    after = scenario.get("after", 1)
    await exchange.json(
        429, _error("rate limited by the mock upstream", "rate_limit_exceeded"), {"Retry-After": f"{after:g}"}
    )


async def answer_flaky(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    if exchange.record.retry_count < scenario.get("fails", 1):
        await exchange.json(503, _error("temporarily overloaded", "server_error"))
    else:
        await answer_stream(exchange, Scenario("stream"), request)


async def answer_malformed(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await _sse_head(exchange)
    await _stream_deltas(exchange, request, int(scenario.get("after", 2)), 0.02)
    await exchange.chunk(b'data: {"choices": [{"delta": {"content": "oops"\n\n')
    await exchange.pause(0.2)  # let the client read the bad line before the body ends
    await exchange.chunk(b"data: [DONE]\n\n")
    await exchange.send(b"0\r\n\r\n")


async def answer_cut(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await _sse_head(exchange)
    await _stream_deltas(exchange, request, int(scenario.get("after", 3)), scenario.get("interval", 0.02))
    await exchange.pause(0.1)
    exchange.closing = True
    exchange.writer.transport.abort()  # no terminating chunk: the body is visibly incomplete


async def answer_json(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await _sse_head(exchange)
    for i, piece in enumerate(JSON_ANSWER):
        await exchange.event(_chunk(request, {"content": piece, **({"role": "assistant"} if i == 0 else {})}))
        exchange.record.deltas_sent += 1
    await _finish_stream(exchange, request, "stop", len(JSON_ANSWER))


async def answer_tool(exchange: Exchange, scenario: Scenario, request: dict[str, Any]) -> None:
    await _sse_head(exchange)
    call = {
        "index": 0,
        "id": "call_weather_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    await exchange.event(_chunk(request, {"role": "assistant", "tool_calls": [call]}))
    await _finish_stream(exchange, request, "tool_calls", 5)


async def _finish_stream(exchange: Exchange, request: dict[str, Any], finish: str, tokens: int) -> None:
    await exchange.event(_chunk(request, {}, finish=finish))
    await exchange.event({**_chunk(request, {}), "choices": [], "usage": _usage(request, tokens)})
    await exchange.chunk(b"data: [DONE]\n\n")
    await exchange.send(b"0\r\n\r\n")


_ANSWERS = {
    "stream": answer_stream,
    "hang": answer_hang,
    "stall": answer_stall,
    "http-500": answer_500,
    "http-429": answer_429,
    "flaky": answer_flaky,
    "malformed": answer_malformed,
    "cut": answer_cut,
    "json": answer_json,
    "tool": answer_tool,
}


async def serve(host: str, port: int) -> None:
    upstream = MockUpstream()
    server = await asyncio.start_server(upstream.handle, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
