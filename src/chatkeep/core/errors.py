"""Domain exceptions. The core raises them; each dialect maps them to its own error shape in one place."""

from __future__ import annotations

from datetime import datetime


class ChatkeepError(Exception):
    """Base of every error the core reports to a caller. `code` is a stable machine-readable name."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(ChatkeepError):
    code = "unauthenticated"


class Forbidden(ChatkeepError):
    code = "forbidden"


class NotFound(ChatkeepError):
    code = "not_found"


class Conflict(ChatkeepError):
    code = "conflict"


class InvalidInput(ChatkeepError):
    code = "invalid_request"


class PayloadTooLarge(ChatkeepError):
    code = "payload_too_large"


class RateLimited(ChatkeepError):
    """The organisation is over a limit. `limit` names which one; it resets in `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, limit: str, retry_after: float, reset_at: datetime) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after
        self.reset_at = reset_at
