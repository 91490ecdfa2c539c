"""What a started app has done to its process, beyond its routes."""

from __future__ import annotations

import gc

import httpx

from chatkeep.app import create_app
from chatkeep.providers import token_count
from chatkeep.settings import Settings


async def test_startup_objects_are_frozen_out_of_full_collections(client: httpx.AsyncClient) -> None:
    # Unfrozen, every full collection walked them all with the event loop stopped (90-220 ms, see app.py).
    assert (await client.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() > 100_000


async def test_startup_loads_the_tokenizers(settings: Settings) -> None:
    # Loaded on the first turn instead, they held the event loop for about half a second.
    token_count._counter.cache_clear()
    token_count._encoder.cache_clear()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert token_count._counter.cache_info().currsize == 2
        assert token_count._encoder.cache_info().currsize == 2
