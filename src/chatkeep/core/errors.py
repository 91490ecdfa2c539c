"""Domain exceptions: what went wrong, in the core's own words.

The core raises them; each dialect maps them to its status codes, bodies and field names in one module
(`dialects/quant/errors.py`, `dialects/waldur/errors.py`). `field` names the domain subject or field the
error is about — `conversation`, `message`, `model`, `tools`, `tokens_used`, `user`, `edited_message`,
`ordering`, `severity`, an AI config key … — never a wire name.

    ChatkeepError
      ├── Unauthenticated   no valid credentials
      ├── Forbidden         authenticated, but not allowed
      ├── NotFound          the subject does not exist for this caller (absent, expired or not visible)
      ├── Conflict          valid on its own, but not with the subject's current state
      ├── InvalidInput      a field's value is not acceptable
      ├── PayloadTooLarge   the input is over a size limit
      └── RateLimited       the organisation is over a limit (`limit` says which)
"""

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
