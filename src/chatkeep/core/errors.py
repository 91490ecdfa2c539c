"""Domain exceptions. The core raises them; each dialect maps them to its own error shape in one place."""

from __future__ import annotations


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
