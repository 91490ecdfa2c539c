"""ASGI middleware that closes, and so settles, every turn a request opened once the request is over."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from chatkeep.core.turns import turn_scope


class CloseTurnsMiddleware:
    """Wraps each HTTP request in a `turn_scope`: a turn left open by its handler or its response (the
    client left before the body began, the handler raised) is settled when the request ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with turn_scope():
            await self.app(scope, receive, send)
