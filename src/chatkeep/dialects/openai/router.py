"""Mounts the OpenAI handlers under `/v1`."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chatkeep.dialects.errors import OPENAI_PREFIX
from chatkeep.dialects.openai import chat, conversations, embeddings, models, responses
from chatkeep.dialects.storable_input import require_storable_input


def build() -> APIRouter:
    router = APIRouter(prefix=OPENAI_PREFIX, dependencies=[Depends(require_storable_input)])
    for part in (models, chat, embeddings, conversations, responses):
        router.include_router(part.router)
    return router
