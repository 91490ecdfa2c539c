"""Mounts the Waldur chat handlers under `/api`, next to Waldur's own paths."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chatkeep.dialects.storable_input import require_storable_input
from chatkeep.dialects.waldur import messages, sessions, threads

PREFIX = "/api"


def build() -> APIRouter:
    """One router with the chat-sessions, chat-threads and chat-messages handlers."""
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_storable_input)])
    for part in (sessions.router, threads.router, messages.router):
        router.include_router(part)
    return router
