"""What a started app has done to its process, beyond its routes."""

from __future__ import annotations

import gc

import httpx


async def test_startup_objects_are_frozen_out_of_full_collections(client: httpx.AsyncClient) -> None:
    # Unfrozen, every full collection walked them all with the event loop stopped (90-220 ms, see app.py).
    assert (await client.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() > 100_000
