"""Mounts the Waldur chat handlers under `/api`, next to Waldur's own paths."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chatkeep.dialects.storable_input import require_storable_input
from chatkeep.dialects.waldur import messages, quota, sessions, system_prompts, threads

PREFIX = "/api"


def build() -> APIRouter:
    """One router with the chat-sessions, -threads, -messages, -quota and -system-prompts handlers."""
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_storable_input)])
    for part in (sessions.router, threads.router, messages.router, quota.router, system_prompts.router):
        router.include_router(part)
    return router
