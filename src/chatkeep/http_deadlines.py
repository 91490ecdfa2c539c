"""Deadlines for reading a request: its headers, then its body, each must arrive in time or get 408.

uvicorn drops idle keep-alive connections (`timeout_keep_alive`) and caps connections with a 503
(`limit_concurrency`), but holds a connection whose headers or body trickle in forever (bench/slow_clients.py
measures it: a slowloris kept 200 of 200 sockets). hypercorn and granian time out slow headers but not slow
bodies, and answer no status past their connection caps; so chatkeep stays on uvicorn and adds the two
deadlines through uvicorn's own extension point, the HTTP protocol class (`uvicorn.Config(http=…)`).

The header deadline runs from the connection's first byte (or the next request's first byte on a kept-alive
connection) to the end of the headers; the body deadline from the end of the headers to the end of the body.
Expiry answers `408 Request Timeout` (when no response has begun) and closes the connection; the app sees a
disconnect.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from chatkeep.settings import Settings

_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


@functools.cache
def _deadlines() -> tuple[float, float]:
    """(header, body) seconds from the settings, read once per process (uvicorn's workers included)."""
    settings = Settings()
    return settings.header_read_timeout_seconds, settings.body_read_timeout_seconds


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for the headers and one for the body of each request.

    Named by import path in `uvicorn.run(http="chatkeep.http_deadlines:DeadlineProtocol")`, so it works
    with several worker processes too; the deadlines come from the settings
    (CHATKEEP_HEADER_READ_TIMEOUT_SECONDS, CHATKEEP_BODY_READ_TIMEOUT_SECONDS).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout, self.body_timeout = _deadlines()
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, "the request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm(self.header_timeout, "the request headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._arm(self.body_timeout, "the request body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, what: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            message = f"{what} did not arrive in time".encode()
            self.transport.write(_408 % (len(message), message))
        self.transport.close()
