"""The Quant dialect's errors: `{error, message, field}` bodies with camelCase field names.

Every domain error, validation error and model failure a Quant client sees is shaped here.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi.responses import JSONResponse

from chatkeep.core import errors

# Domain field → the request field a Quant client sent; names not listed are the same on the wire.
FIELDS = {
    "conversation": "sessionId",
    "model": "modelId",
    "tools": "toolConfig",
    "tokens_used": "tokensUsed",
    "user": "userId",
    "texts": "input",
    "response_format": "responseFormat",
}

# What a Quant client is told when a subject is not found (the spec's sentence for sessions).
NOT_FOUND = {"conversation": "Session not found"}

# A model failure's kind → the status of a buffered answer (and of a stream's error event).
FAILURE_STATUS = {
    "timeout": 504,
    "rate_limited": 429,
    "bad_request": 400,
    "not_found": 404,
    "storage_unavailable": 503,  # the answer could not be stored yet (the database is unavailable)
}


# Quant clients authenticate with `Authorization: Bearer <token>`.
AUTH_SCHEME = "Bearer"


def describe(exc: errors.ChatkeepError) -> str:
    """The message for a domain error, in Quant's words where they differ from the core's."""
    if isinstance(exc, errors.NotFound) and exc.field in NOT_FOUND:
        return NOT_FOUND[exc.field]
    return exc.message


def failure_status(kind: str) -> int:
    return FAILURE_STATUS.get(kind, 502)


def retry_after_seconds(retry_after: float | None) -> int | None:
    """A Retry-After value in whole seconds, rounded up and at least 1."""
    return None if retry_after is None else max(1, math.ceil(retry_after))


def body(
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"error": code, "message": message}
    if field:
        payload["field"] = FIELDS.get(field, field)
    if details:
        payload["errors"] = details
    return payload


def render(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        body(code, message, field=field, details=details), status_code=status, headers=headers
    )


def render_model_failure(kind: str, message: str, retry_after: float | None) -> JSONResponse:
    """A buffered call whose model failed: 502, 504, 429 (with Retry-After) …"""
    seconds = retry_after_seconds(retry_after)
    return JSONResponse(
        {"error": kind, "message": message},
        status_code=failure_status(kind),
        headers={"Retry-After": str(seconds)} if seconds is not None else None,
    )


def render_rate_limited(exc: errors.RateLimited, *, seconds: int, reset_at: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": exc.code,
            "message": exc.message,
            "limit": exc.limit,
            "resetAt": reset_at,
            "retryAfterSeconds": seconds,
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
