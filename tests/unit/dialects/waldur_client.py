"""The official `waldur-api-client` (8.1.3) on the in-process app with scripted models: its async API over
the same ASGI transport as `scripted_client`, so tests can script the model and read the database."""

from __future__ import annotations

import json
from typing import Any

import httpx
from waldur_api_client import AuthenticatedClient

BASE_URL = "http://chatkeep.test"


def official(http: httpx.AsyncClient, secret: str) -> AuthenticatedClient:
    """An official client authenticated with `secret`, sending its requests through `http`'s transport."""
    client = AuthenticatedClient(base_url=BASE_URL, token=secret, prefix="Token")
    transport = http._transport  # the in-process ASGI app; no network between test and app
    client.set_async_httpx_client(
        httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers={"Authorization": f"Token {secret}"}
        )
    )
    return client


async def stream_turn(http: httpx.AsyncClient, secret: str, **body: Any) -> tuple[httpx.Response, list[dict]]:
    """`POST /api/chat/stream/` over raw HTTP (the generated client cannot read NDJSON) and its records."""
    response = await http.post("/api/chat/stream/", json=body, headers={"Authorization": f"Token {secret}"})
    records = (
        [json.loads(line) for line in response.text.splitlines() if line.strip()]
        if response.is_success
        else []
    )
    return response, records
