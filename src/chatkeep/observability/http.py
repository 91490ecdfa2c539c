"""The HTTP middleware that counts, times and (in JSON log mode) logs every request.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which would run each streamed response in an extra
task. Requests are labelled by their route template (`/api/v3/organizations/{organisation}/ai/chat`),
never their raw path, so metric series stay bounded; a path no route matches counts as `unmatched`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkeep.observability import metrics, request_context

access_log = logging.getLogger("chatkeep.access")
REQUEST_ID_HEADER = b"x-request-id"
# A client's own request id is kept when it looks like one (ids, UUIDs); anything else is replaced, so a
# header cannot smuggle text into the logs.
_CLIENT_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route that served `scope`, or UNMATCHED.

    FastAPI resolves routes of included routers lazily: `scope["route"]` is then the route as declared
    (`/chat`, without the prefix it was included under), and the full template is on the effective route
    context FastAPI keeps in its part of the scope. That is not public API, so a FastAPI without it falls
    back to the declared route's path.
    """
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    path = getattr(effective, "path_format", None)
    if not path:
        route = scope.get("route")
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class ObservedRequests:
    """ASGI middleware: a request id (echoed as X-Request-ID), the request metrics and the access record."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = False) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        client = scope.get("client")
        facts = request_context.RequestFacts(
            request_id=request_id, client_address=client[0] if client else None
        )
        token = request_context.begin(facts)
        status = 500  # what the client gets if the app fails before starting a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - facts.arrived
            route = route_template(scope)
            facts.route = route
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_DURATION.labels(method, route).observe(elapsed)
            if self.log_requests:
                _log_access(facts, method, route, status, elapsed)
            request_context.end(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _CLIENT_REQUEST_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


def _log_access(
    facts: request_context.RequestFacts, method: str, route: str, status: int, elapsed: float
) -> None:
    extra: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
    }
    access_log.info("%s %s %d", method, route, status, extra=extra)
