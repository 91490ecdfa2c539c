"""Routes whose large JSON bodies are parsed and checked in a worker process, never on the event loop.

FastAPI parses a route's body with `request.json()` on the event loop: 20 MB of JSON held every other
request for ~30 ms (longer on a busy machine), whichever thread ran it, since no JSON parser releases the
interpreter lock; and the storable-value check walks every value of it (dialects.storable_input). Routers
that take JSON bodies use `OffLoopJSONRoute`; the body is still read through the body limit first
(`chatkeep.body_limit`), so an oversized body is refused before it is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from chatkeep.core.workers import run_parse
from chatkeep.dialects.storable_values import parse_checked


class OffLoopJSONRequest(Request):
    """A request whose `json()` parses a large body in the parsing process (see core.workers), and finds
    its first unstorable value there too; the same parser and the same errors as Starlette's, so FastAPI
    answers bad JSON as before."""

    _unstorable: tuple[str, str] | None = None

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json, self._unstorable = await run_parse(len(body), parse_checked, body)
        return self._json

    def unstorable(self) -> tuple[str, str] | None:
        """(dotted path, problem) of the parsed body's first unstorable value, or None (after `json()`)."""
        return self._unstorable


class OffLoopJSONRoute(APIRoute):
    """An API route that hands its handler (and its dependencies) an `OffLoopJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_off_loop_json(request: Request) -> Response:
            return await handle(OffLoopJSONRequest(request.scope, request.receive))

        return with_off_loop_json
