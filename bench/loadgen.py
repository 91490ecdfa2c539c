"""The benchmark's load generator, run as its own process: N concurrent keep-alive connections, each sending
one request after another, timing every answer (and every streamed frame) on arrival.

    python bench/loadgen.py < spec.json > result.json

The spec (JSON on stdin):
    host, port, method (default POST), path, headers {name: value}, body (a string, or absent/null for
    none), sessions [[id, ...] per worker] (optional: each `__SESSION__` in path and body is replaced per
    request), turns_per_session, rotate (bool: cycle over a worker's sessions instead of staying on its
    last one once they are used up), stream (bool),
    protocol "openai" | "quant" | "responses" (how a streamed text frame is recognised), concurrency,
    requests_per_worker, duration (seconds: no request starts after it), timeout (per request),
    stagger (seconds over which workers start).
The result (JSON on stdout): per request `latency`, and for streams `ttft`, `gaps` (between text frames)
and `frames`; `errors` with a short reason each; `wall` seconds.

Raw asyncio with httptools' C parser on uvloop, so that at hundreds of streams the client's own cost
stays small; it runs in every arm alike, so what it adds cancels out in the ratios.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

SEPARATORS = (b"\r\n\r\n", b"\n\n")


def is_text_frame(frame: bytes, protocol: str) -> bool:
    """A server-sent event that carries generated text (not a role, finish, usage or start frame)."""
    if protocol == "quant":
        return b"event: content" in frame
    if protocol == "responses":
        return b"event: response.output_text.delta" in frame
    at = frame.find(b'"content":"')
    return at >= 0 and frame[at + 11 : at + 12] != b'"'


@dataclass(slots=True)
class Sample:
    sent: float = 0.0  # perf_counter when the request was written
    latency: float = 0.0
    ttft: float | None = None
    frames: int = 0
    gaps: list[float] = field(default_factory=list)


class ClientProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, protocol: str) -> None:
        self.kind = protocol
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] | None = None
        self.sample = Sample()
        self.sent = 0.0
        self.last = 0.0
        self.pending = b""
        self.status = 0
        self.keep_alive = True
        self.lost = asyncio.get_running_loop().create_future()
        self.now = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.lost.done():
            self.lost.set_result(None)
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("connection closed before the answer ended"))

    def data_received(self, data: bytes) -> None:
        self.now = time.perf_counter()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.done is not None and not self.done.done():
                self.done.set_exception(exc)

    def request(self, raw: bytes) -> asyncio.Future[None]:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.pending = b""
        self.sent = self.last = time.perf_counter()
        self.sample = Sample(sent=self.sent)
        self.transport.write(raw)
        return self.done

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self.status = self.parser.get_status_code()

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        data = self.pending + body
        start = 0
        while True:
            ends = [(i, len(s)) for s in SEPARATORS if (i := data.find(s, start)) >= 0]
            if not ends:
                break
            end, size = min(ends)
            if is_text_frame(data[start:end], self.kind):
                sample = self.sample
                if sample.ttft is None:
                    sample.ttft = self.now - self.sent
                else:
                    sample.gaps.append(self.now - self.last)
                self.last = self.now
                sample.frames += 1
            start = end + size
        self.pending = data[start:]

    def on_message_complete(self) -> None:
        self.sample.latency = time.perf_counter() - self.sent
        if self.done is not None and not self.done.done():
            if self.status >= 400:
                self.done.set_exception(RuntimeError(f"HTTP {self.status}"))
            else:
                self.done.set_result(None)


PLACEHOLDER = "__SESSION__"
# Methods whose request without a body still says so (Content-Length: 0), as HTTP clients do.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def encode_request(spec: dict[str, Any], body: str | None, path: str | None = None) -> bytes:
    """One HTTP/1.1 request of the spec; `body` None sends none (a GET, a DELETE)."""
    method = str(spec.get("method", "POST")).upper()
    headers = {"host": f"{spec['host']}:{spec['port']}"}
    if body is not None:
        headers["content-type"] = "application/json"
    headers.update({k.lower(): v for k, v in spec.get("headers", {}).items()})
    payload = b"" if body is None else body.encode()
    if body is not None or method in _BODY_METHODS:
        headers["content-length"] = str(len(payload))
    target = spec["path"] if path is None else path
    lines = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode() + payload


def session_for(sessions: list[str], n: int, per_session: int, rotate: bool) -> str:
    """The session id of a worker's request number `n`."""
    turn = n // per_session
    return sessions[turn % len(sessions)] if rotate else sessions[min(turn, len(sessions) - 1)]


async def worker(index: int, spec: dict[str, Any], deadline: float, out: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(spec.get("stagger", 0.0) * index / max(1, spec["concurrency"]))
    sessions = (spec.get("sessions") or [[]])[index] if spec.get("sessions") else []
    per_session = max(1, int(spec.get("turns_per_session", 1)))
    rotate = bool(spec.get("rotate"))
    conn: ClientProtocol | None = None
    for n in range(int(spec["requests_per_worker"])):
        if time.perf_counter() >= deadline:
            break
        body: str | None = spec.get("body")
        path: str = spec["path"]
        if sessions:
            session = session_for(sessions, n, per_session, rotate)
            body = None if body is None else body.replace(PLACEHOLDER, session)
            path = path.replace(PLACEHOLDER, session)
        raw = encode_request(spec, body, path)
        try:
            if conn is None or conn.transport is None or not conn.keep_alive:
                if conn is not None and conn.transport is not None:
                    conn.transport.close()
                _, conn = await loop.create_connection(
                    lambda: ClientProtocol(spec.get("protocol", "openai")), spec["host"], spec["port"]
                )
            async with asyncio.timeout(spec["timeout"]):
                await conn.request(raw)
        except (OSError, TimeoutError, RuntimeError, httptools.HttpParserError) as exc:
            out["errors"].append(f"{type(exc).__name__}: {exc}"[:120])
            if conn is not None and conn.transport is not None:
                conn.transport.close()
            conn = None
            continue
        s = conn.sample
        if spec.get("stream") and s.frames == 0:
            out["errors"].append("stream without text frames")
            continue
        out["latency"].append(s.latency)
        if spec.get("stream"):
            out["ttft"].append(s.ttft)
            out["gaps"].extend(s.gaps)
            out["max_gap"].append(max(s.gaps, default=0.0))
            out["frames"].append(s.frames)
            # When it streamed, on the run's clock: (sent, first text frame, end), for streams held at once.
            out["spans"].append(
                (
                    s.sent - out["started"],
                    s.sent + (s.ttft or 0.0) - out["started"],
                    s.sent + s.latency - out["started"],
                )
            )
    if conn is not None and conn.transport is not None:
        conn.transport.close()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": [], "ttft": [], "gaps": [], "max_gap": [], "frames": [], "errors": []}
    out["spans"] = []
    started = out["started"] = time.perf_counter()
    deadline = started + float(spec["duration"])
    async with asyncio.timeout(float(spec["duration"]) + float(spec["timeout"]) + 5):
        await asyncio.gather(*(worker(i, spec, deadline, out) for i in range(int(spec["concurrency"]))))
    out["wall"] = time.perf_counter() - started
    return out


def main() -> None:
    spec = json.load(sys.stdin)
    runner = uvloop.run if uvloop is not None else asyncio.run
    result = runner(run(spec))
    # Microseconds keep the JSON small and are precise enough.
    for key in ("latency", "ttft", "gaps", "max_gap"):
        result[key] = [round(v * 1e6) for v in result[key]]
    result["spans"] = [[round(v * 1e6) for v in span] for span in result["spans"]]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
