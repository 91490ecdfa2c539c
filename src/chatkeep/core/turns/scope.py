"""Every turn opened while serving a request is closed when the request ends.

A turn reserves its answer row when it opens; closing it stores the outcome. A response whose body never
ran (the client left before the first byte) or a handler that raised after opening a turn would otherwise
leave that row in progress until the stale-turn sweep. The server wraps each request in `turn_scope()`
once, so no dialect has to remember to close what it opened.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from chatkeep.core.turns.turn import Turn

_OPEN: ContextVar[list[Turn] | None] = ContextVar("chatkeep_open_turns", default=None)


def track(turn: Turn) -> None:
    """Remember a newly opened turn in the current scope, if there is one."""
    opened = _OPEN.get()
    if opened is not None:
        opened.append(turn)


@contextlib.asynccontextmanager
async def turn_scope() -> AsyncIterator[None]:
    """Close (and so settle) every turn opened inside, however the block ends."""
    opened: list[Turn] = []
    token = _OPEN.set(opened)
    try:
        yield
    finally:
        _OPEN.reset(token)
        if opened:  # most requests open no turn: no cancel scope to set up for them
            with anyio.CancelScope(shield=True):
                for turn in opened:
                    await turn.aclose()
