"""Installs the error handlers: domain exceptions, validation errors, HTTP and database errors leave as
JSON in the caller's dialect (each dialect's `errors` module shapes the body); never a stack trace."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from chatkeep.core import errors
from chatkeep.dialects.console import errors as console_errors
from chatkeep.dialects.console.security import is_console_path
from chatkeep.dialects.openai import errors as openai_errors
from chatkeep.dialects.quant import errors as quant_errors
from chatkeep.dialects.waldur import errors as waldur_errors

log = logging.getLogger("chatkeep.errors")

_STATUS = {
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidInput: 400,
    errors.PayloadTooLarge: 413,
}

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    503: "service_unavailable",
}

_UNAVAILABLE = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
)


def _database_unavailable(exc: BaseException) -> bool:
    """A lost, refused or saturated database (retrying may help), as opposed to a failing statement.

    A refused connect reaches us unwrapped, as the OS or asyncpg raised it; errors on a live connection
    come wrapped by SQLAlchemy, with the driver's error as cause.
    """
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        if orig is None:
            return False
        if "database is locked" in str(orig):  # SQLite's busy timeout ran out
            return True
        return _database_unavailable(orig) or (
            orig.__cause__ is not None and _database_unavailable(orig.__cause__)
        )
    return isinstance(exc, _UNAVAILABLE)


# How long a client should wait before retrying when the database is saturated or unreachable.
_DATABASE_RETRY_AFTER = "1"

WALDUR_PREFIX = "/api/chat"
OPENAI_PREFIX = "/v1"


def is_waldur(request: Request) -> bool:
    return request.url.path.startswith(WALDUR_PREFIX)


def is_openai(path: str) -> bool:
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


class ErrorShapes(Protocol):
    """What a dialect's `errors` module provides (see quant/errors.py, waldur/errors.py, openai/errors.py)."""

    AUTH_SCHEME: str

    def describe(self, exc: errors.ChatkeepError) -> str: ...

    def render(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse: ...

    def render_rate_limited(
        self, exc: errors.RateLimited, *, seconds: int, reset_at: str
    ) -> JSONResponse: ...


def _dialect(request: Request) -> ErrorShapes:
    """The module that shapes this request's errors."""
    if is_waldur(request):
        return waldur_errors
    if is_openai(request.url.path):
        return openai_errors
    return console_errors if is_console_path(request.url.path) else quant_errors


def render(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The error body in the caller's dialect: DRF shapes for Waldur, OpenAI's `{error: {…}}` under /v1,
    {error, message, field} for Quant."""
    return _dialect(request).render(status, code, message, field=field, details=details, headers=headers)


def render_rate_limited(request: Request, exc: errors.RateLimited) -> JSONResponse:
    """429 with Retry-After (whole seconds, rounded up) and when the limit resets, in the caller's dialect."""
    seconds = max(1, math.ceil(exc.retry_after))
    reset_at = exc.reset_at.isoformat().replace("+00:00", "Z")
    return _dialect(request).render_rate_limited(exc, seconds=seconds, reset_at=reset_at)


def render_http(request: Request, exc: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return render(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))


def _field_name(loc: tuple[Any, ...]) -> str:
    # loc is ("body", "messages", 0, "role") or ("query", "limit"); drop the source, keep a dotted path.
    parts = (
        [str(p) for p in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else list(map(str, loc))
    )
    return ".".join(parts)


def _whole_body_problem(request: Request, errs: Sequence[Any]) -> tuple[int, str] | None:
    """(status, message) when the body as a whole is missing, not JSON, or not a JSON object.

    FastAPI reports these as one error at loc ("body",) with a pydantic sentence that names no cause.
    """
    whole = [e for e in errs if tuple(e.get("loc", ())) == ("body",) and e.get("type") != "json_invalid"]
    if not whole:
        return None
    if whole[0].get("type") == "missing":
        return 400, "a JSON request body is required"
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return 415, f"Content-Type must be application/json, not {content_type or 'missing'}"
    return 400, "request body must be a JSON object"


def install(app: FastAPI) -> None:
    """Register the handlers. Every error leaves as JSON; a stack trace never reaches a client."""

    @app.exception_handler(errors.ChatkeepError)
    async def _domain(request: Request, exc: errors.ChatkeepError) -> JSONResponse:
        if isinstance(exc, errors.RateLimited):
            return render_rate_limited(request, exc)
        dialect = _dialect(request)
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        headers = {"WWW-Authenticate": dialect.AUTH_SCHEME} if status == 401 else None
        return dialect.render(status, exc.code, dialect.describe(exc), field=exc.field, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        whole_body = _whole_body_problem(request, exc.errors())
        if whole_body:
            status, text = whole_body
            return render(request, status, _HTTP_CODES[status], text)
        details = []
        for err in exc.errors():
            name = _field_name(tuple(err.get("loc", ())))
            if err.get("type") == "json_invalid":
                details.append({"field": None, "message": "request body is not valid JSON"})
            else:
                details.append({"field": name or None, "message": str(err.get("msg", "invalid value"))})
        first = details[0] if details else {"field": None, "message": "invalid request"}
        field, text = first["field"], str(first["message"])
        message = f"{field}: {text}" if field else text
        return render(request, 400, "invalid_request", message, field=field, details=details)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return render_http(request, exc)

    @app.exception_handler(sa_exc.TimeoutError)
    async def _pool_exhausted(request: Request, exc: sa_exc.TimeoutError) -> JSONResponse:
        # Every pooled connection stayed busy for the pool timeout: an overload, not a bug.
        log.warning("database connection pool exhausted on %s %s", request.method, request.url.path)
        return render(
            request,
            503,
            "service_unavailable",
            "the server is busy; retry shortly",
            headers={"Retry-After": _DATABASE_RETRY_AFTER},
        )

    @app.exception_handler(ConnectionError)
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.TooManyConnectionsError)
    @app.exception_handler(asyncpg.CannotConnectNowError)
    @app.exception_handler(sa_exc.DBAPIError)
    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not _database_unavailable(exc):
            return _internal_error(request)  # a failing statement is a bug, not an outage
        # The driver's text stays in our log (parameters hidden); the client learns only that it may retry.
        cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, cause)
        return render(
            request,
            503,
            "service_unavailable",
            "the database is unavailable; retry shortly",
            headers={"Retry-After": _DATABASE_RETRY_AFTER},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request)


def _internal_error(request: Request) -> JSONResponse:
    """500 with a fixed sentence; the traceback goes to our log only (called while handling the error)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(request, 500, "internal_error", "internal server error")
