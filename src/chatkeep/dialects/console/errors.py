"""The console's error bodies: `{error, message, field}` with the core's own field names.

The pages show the message to a person (the chat composer's status line, for one); state-changing forms
that fail render their page again instead, so these bodies reach only the page's script.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from chatkeep.core import errors

# The console signs in with a session cookie; a 401 never reaches it (it redirects to sign-in instead).
AUTH_SCHEME = "Cookie"

# What a person is told when something is not found.
NOT_FOUND = {"conversation": "This conversation does not exist, has expired, or is not yours to see."}


def describe(exc: errors.ChatkeepError) -> str:
    if isinstance(exc, errors.NotFound) and exc.field in NOT_FOUND:
        return NOT_FOUND[exc.field]
    return exc.message


def render(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    payload: dict[str, Any] = {"error": code, "message": message}
    if field:
        payload["field"] = field
    if details:
        payload["errors"] = details
    return JSONResponse(payload, status_code=status, headers=headers)


def render_rate_limited(exc: errors.RateLimited, *, seconds: int, reset_at: str) -> JSONResponse:
    message = f"{exc.message}. Try again in {seconds} s."
    return JSONResponse(
        {"error": exc.code, "message": message, "limit": exc.limit, "reset_at": reset_at},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
