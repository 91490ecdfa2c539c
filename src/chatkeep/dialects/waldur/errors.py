"""The Waldur dialect's errors, shaped as Django REST framework shapes them: `{detail}` for most,
`{field: [message]}` for invalid input, with the field names of Waldur's requests."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from chatkeep.core import errors

# Domain field → the field a Waldur client sent; names not listed are the same on the wire.
FIELDS = {
    "edited_message": "edit_message_uuid",
    "ordering": "o",
    "severity": "max_severity",
    "conversation": "thread_uuid",
    "messages": "input",
}

# DRF's `get_object` sentence for any object that is absent or not visible.
NOT_FOUND = "Not found."

# The sentences Waldur's stream view answers with when a thread or a message is not found.
STREAM_NOT_FOUND = {"conversation": "Thread not found.", "message": "Message not found."}

# Waldur clients show `detail` to people: DRF's throttling sentence, and Waldur's own quota sentences.
LIMIT_DETAIL = {
    "requests_per_minute": "Request was throttled. Expected available in {seconds} seconds.",
    "monthly_token_quota": "Monthly token limit exceeded.",
    "daily_user_token_quota": "Daily token limit exceeded.",
    "weekly_user_token_quota": "Weekly token limit exceeded.",
    "monthly_user_token_quota": "Monthly token limit exceeded.",
}
# Waldur answers a user's used-up token quota with 409 Conflict. The organisation's monthly quota is
# chatkeep's own (Waldur has none) and keeps the throttling shape above.
USER_TOKEN_QUOTAS = frozenset(
    {"daily_user_token_quota", "weekly_user_token_quota", "monthly_user_token_quota"}
)

# DRF's TokenAuthentication challenges with `Token`.
AUTH_SCHEME = "Token"


def describe(exc: errors.ChatkeepError) -> str:
    """The message for a domain error: DRF's one sentence for anything not found (absent and invisible
    alike), unless a view chose its own (raised without a subject)."""
    if isinstance(exc, errors.NotFound) and exc.field is not None:
        return NOT_FOUND
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
    content: Any
    if status == 400 and details:
        content = {d["field"] or "non_field_errors": [d["message"]] for d in details}
    elif status == 400 and field:
        content = {FIELDS.get(field, field): [message]}
    else:
        content = {"detail": message}
    return JSONResponse(content, status_code=status, headers=headers)


def render_rate_limited(exc: errors.RateLimited, *, seconds: int, reset_at: str) -> JSONResponse:
    """A superset of DRF's `{detail}` and Waldur 8.0.7's throttling body; Waldur's 409 for user quotas."""
    if exc.limit in USER_TOKEN_QUOTAS:
        return JSONResponse({"detail": LIMIT_DETAIL[exc.limit]}, status_code=409)
    return JSONResponse(
        {
            "detail": LIMIT_DETAIL.get(exc.limit, exc.message).format(seconds=seconds),
            "error": exc.code,
            "code": exc.limit,
            "reset_at": reset_at,
            "retry_after_seconds": seconds,
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
