"""Facts about the request being served, readable anywhere below the HTTP layer without passing them on.

The HTTP middleware opens a `RequestFacts` per request; authentication notes the organisation and token
in it; the access log, the audit trail ("from where") and log records read it. Outside a request (the CLI,
background housekeeping) there are no facts, and readers get None.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestFacts:
    """One request: its id, where it came from, and (once authenticated) who sent it."""

    request_id: str
    arrived: float = field(default_factory=time.perf_counter)  # perf_counter() when the request came in
    client_address: str | None = None
    route: str | None = None
    org_name: str | None = None
    token_id: uuid.UUID | None = None


_current: contextvars.ContextVar[RequestFacts | None] = contextvars.ContextVar(
    "chatkeep_request_facts", default=None
)


def begin(facts: RequestFacts) -> contextvars.Token[RequestFacts | None]:
    """Make `facts` the current request's; pass the returned token to `end`."""
    return _current.set(facts)


def end(token: contextvars.Token[RequestFacts | None]) -> None:
    _current.reset(token)


def current() -> RequestFacts | None:
    """The facts of the request being served, or None outside a request."""
    return _current.get()


def note_caller(*, org_name: str, token_id: uuid.UUID | None) -> None:
    """Record who the current request authenticated as (a no-op outside a request)."""
    facts = _current.get()
    if facts is not None:
        facts.org_name = org_name
        facts.token_id = token_id
