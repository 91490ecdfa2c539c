"""Small HTTP helpers for the reliability tests: Quant and Waldur calls, SSE parsing, polling."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from tests.support import Tenant
from tests.support import parse_sse as parse_events

T = TypeVar("T")


def ai(tenant: Tenant) -> str:
    return f"/api/v3/organizations/{tenant.name}/ai"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token(secret: str) -> dict[str, str]:
    return {"Authorization": f"Token {secret}"}


def marker() -> str:
    """A unique user message, by which the mock upstream's records of this turn are found."""
    return f"marker-{uuid.uuid4().hex}"


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) for every server-sent event with data; every data line must be JSON."""
    return [(event, data) for _, event, data in parse_events(body)]


async def create_session(http: httpx.AsyncClient, tenant: Tenant, user: str = "alice") -> str:
    response = await http.post(
        f"{ai(tenant)}/sessions", json={"userId": user}, headers=bearer(tenant.service)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sessionId"])


def chat_body(model: str, text: str, session_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"modelId": model, "messages": [{"role": "user", "content": text}]}
    if session_id is not None:
        body["sessionId"] = session_id
    return body


async def chat(
    http: httpx.AsyncClient, tenant: Tenant, model: str, text: str, session_id: str | None = None
) -> httpx.Response:
    """A buffered Quant chat turn."""
    return await http.post(
        f"{ai(tenant)}/chat", json=chat_body(model, text, session_id), headers=bearer(tenant.service)
    )


async def chat_stream(
    http: httpx.AsyncClient, tenant: Tenant, model: str, text: str, session_id: str | None = None
) -> tuple[httpx.Response, list[tuple[str, dict[str, Any]]]]:
    """A streamed Quant chat turn, read to its end."""
    response = await http.post(
        f"{ai(tenant)}/chat/stream", json=chat_body(model, text, session_id), headers=bearer(tenant.service)
    )
    return response, parse_sse(response.text) if response.status_code == 200 else []


async def session_messages(http: httpx.AsyncClient, tenant: Tenant, session_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"{ai(tenant)}/sessions/{session_id}", headers=bearer(tenant.service))
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def usage_totals(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await http.get(f"{ai(tenant)}/usage", headers=bearer(tenant.admin))
    assert response.status_code == 200, response.text
    totals: dict[str, Any] = response.json()["totals"]
    return totals


async def set_default_model(http: httpx.AsyncClient, tenant: Tenant, model: str) -> None:
    """Waldur streams carry no model: the organisation's default decides."""
    response = await http.put(
        f"{ai(tenant)}/config", json={"default_model": model}, headers=bearer(tenant.admin)
    )
    assert response.status_code == 200, response.text


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 5.0) -> T:
    """Poll `check` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {result!r})")
        await asyncio.sleep(0.05)
