"""Streaming responses that settle their turn however the response ends.

A turn's assistant row is reserved before the response starts. When the client leaves before the body's
first chunk, the body generator never runs, and nothing in it can store the turn; these responses do it
once they are done, so the row is `cancelled` at once instead of `in_progress` until the stale sweep.
"""

from __future__ import annotations

from typing import Any

import anyio
from sse_starlette import EventSourceResponse
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from chatkeep.core.turns import PreparedTurn, TurnEngine


class _SettlesTurn:
    _engine: TurnEngine
    _prepared: PreparedTurn

    def settle(self, engine: TurnEngine, prepared: PreparedTurn) -> None:
        self._engine, self._prepared = engine, prepared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)  # type: ignore[misc]
        finally:
            with anyio.CancelScope(shield=True):
                await self._engine.abandon(self._prepared)


class TurnEventSource(_SettlesTurn, EventSourceResponse):
    def __init__(self, content: Any, *, engine: TurnEngine, prepared: PreparedTurn, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.settle(engine, prepared)


class TurnStreamingResponse(_SettlesTurn, StreamingResponse):
    def __init__(self, content: Any, *, engine: TurnEngine, prepared: PreparedTurn, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.settle(engine, prepared)
