"""Mounts the Quant handlers under every path family a real client calls."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chatkeep.dialects.quant import catalog, chat, config, embeddings, legacy, sessions, usage
from chatkeep.dialects.storable_input import require_storable_input

PREFIXES = (
    "/api/v3/organizations/{organisation}/ai",  # the spec
    "/api/v3/organisations/{organisation}/ai",  # British spelling, called by the Drupal provider
    "/organisations/{organisation}/ai",  # the older family of the 3.0 client
)
LEGACY_PREFIX = PREFIXES[2]


def build() -> APIRouter:
    """One router holding the Quant handlers under each prefix; only the spec's family is in the schema."""
    router = APIRouter(dependencies=[Depends(require_storable_input)])
    for index, prefix in enumerate(PREFIXES):
        # The older family's own shapes come first, so they win over the shared handlers on that family.
        parts = (legacy,) if prefix == LEGACY_PREFIX else ()
        for part in (*parts, sessions, chat, embeddings, catalog, usage, config):
            router.include_router(part.router, prefix=prefix, include_in_schema=index == 0)
    return router
