"""The OpenAI dialect's errors: `{"error": {"message", "type", "param", "code"}}` with OpenAI's statuses.

The `openai` SDK picks its exception class by status (400 BadRequestError, 401 AuthenticationError, 403
PermissionDeniedError, 404 NotFoundError, 409 ConflictError, 422 UnprocessableEntityError, 429
RateLimitError, ≥500 InternalServerError) and shows `message`; `param` names the offending request
field in OpenAI's notation (`messages[0].role`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi.responses import JSONResponse

from chatkeep.core import errors

# Domain field → the request field an OpenAI client sent; names not listed are the same on the wire.
FIELDS = {"texts": "input", "edited_message": "input", "tokens_used": "metadata"}

# OpenAI's error `type` per status.
TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}

# OpenAI's `code` where it has a fixed one.
CODES = {401: "invalid_api_key", 404: "not_found"}

# A model failure's kind → the status of a buffered answer.
FAILURE_STATUS = {"timeout": 504, "rate_limited": 429, "bad_request": 400, "not_found": 404}

# OpenAI's SDK sends `Authorization: Bearer <key>`.
AUTH_SCHEME = "Bearer"

_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
# Pydantic names the chosen member of a tagged union (a message's role, an item's or part's type) in an
# error's location, right after the list index; the client sent no such field.
_UNION_TAG = re.compile(
    r"(\.\d+)\.(system|developer|user|assistant|tool|message|function_call|function_call_output"
    r"|input_text|output_text|input_image|input_file|refusal|text|image_url|file)(?=\.)"
)


def _without_union_members(field: str) -> str:
    """Drop the segments pydantic adds for the member of a union it tried (`str`, `list[union[...]]`)."""
    out, i = [], 0
    while i < len(field):
        match = re.match(r"\.(?:str|int|float|bool|none)(?=\.|$)|\.(?:list|dict|function-\w+)\[", field[i:])
        if match is None:
            out.append(field[i])
            i += 1
            continue
        i += match.end()
        depth = 1 if match.group().endswith("[") else 0
        while depth and i < len(field):
            depth += {"[": 1, "]": -1}.get(field[i], 0)
            i += 1
    return "".join(out)


def param(field: str | None, *, validation: bool = False) -> str | None:
    """A domain field or dotted path in OpenAI's notation: `messages.0.role` → `messages[0].role`.

    `validation`: the path is pydantic's, with the union members and tags it tried to drop.
    """
    if not field:
        return None
    if validation:
        field = _UNION_TAG.sub(r"\1", _without_union_members(field))
    head, _, rest = field.partition(".")
    field = FIELDS.get(head, head) + (f".{rest}" if rest else "")
    return _INDEX.sub(r"[\1]", field)


def describe(exc: errors.ChatkeepError) -> str:
    return exc.message


def failure_status(kind: str) -> int:
    return FAILURE_STATUS.get(kind, 502)


def error_object(
    message: str, *, status: int, code: str | None = None, field: str | None = None, validation: bool = False
) -> dict[str, Any]:
    """The `error` object of an OpenAI error body (also sent inside streams)."""
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    where = param(field, validation=validation)
    return {"message": message, "type": kind, "param": where, "code": CODES.get(status, code)}


def render(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    validation = bool(details)
    where = param(field, validation=validation)
    if validation and field and where and message.startswith(f"{field}:"):
        message = where + message[len(field) :]  # name the field as the client spelled it
    return JSONResponse(
        {"error": error_object(message, status=status, code=code, field=field, validation=validation)},
        status_code=status,
        headers=headers,
    )


def render_model_failure(kind: str, message: str, retry_after: float | None) -> JSONResponse:
    """A buffered call whose model failed: 502, 504, 429 (with Retry-After) …"""
    status = failure_status(kind)
    seconds = None if retry_after is None else max(1, math.ceil(retry_after))
    return JSONResponse(
        {"error": error_object(message, status=status, code=kind)},
        status_code=status,
        headers={"Retry-After": str(seconds)} if seconds is not None else None,
    )


def render_rate_limited(exc: errors.RateLimited, *, seconds: int, reset_at: str) -> JSONResponse:
    """429: `insufficient_quota` for the monthly token quota (as OpenAI answers an exhausted quota),
    `rate_limit_exceeded` for the request rate."""
    quota = exc.limit == "monthly_token_quota"
    body = {
        "message": exc.message,
        "type": "insufficient_quota" if quota else "requests",
        "param": None,
        "code": "insufficient_quota" if quota else "rate_limit_exceeded",
    }
    return JSONResponse(
        {"error": body},
        status_code=429,
        headers={"Retry-After": str(seconds), "x-ratelimit-reset-requests": f"{seconds}s"},
    )
