"""A client gone before a stream's first byte: the reserved assistant row is settled as `cancelled` at
once (not left `in_progress` for the stale sweep), its usage is recorded, and the model is never called."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from chatkeep.app import create_app
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message, Organisation, UsageRecord
from tests.conftest import SCRIPTED_MODELS
from tests.fakes import ScriptedProvider
from tests.support import Tenant


class ClientGone(OSError):
    pass


@pytest.fixture
async def app(settings: Settings, scripted: ScriptedProvider) -> AsyncIterator[FastAPI]:
    application = create_app(settings, registry=ModelRegistry(SCRIPTED_MODELS, {"scripted": scripted}))
    async with application.router.lifespan_context(application):
        yield application


async def _post_with_client_gone(app: FastAPI, path: str, body: dict[str, Any], auth: str) -> None:
    """One POST whose connection fails as the response starts: the body iterator is never entered."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"chatkeep.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
            (b"authorization", auth.encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("chatkeep.test", 80),
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            raise ClientGone("connection reset by peer")

    with pytest.raises(ClientGone):
        await app(scope, receive, send)


async def _assistant_rows(db: Database, tenant: Tenant) -> list[Message]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Organisation, Organisation.id == Conversation.org_id)
            .where(Organisation.name == tenant.name, Message.role == "assistant")
        )
        return list(rows)


async def _usage_statuses(db: Database, tenant: Tenant) -> list[str]:
    async with db.read() as session:
        rows = await session.scalars(
            select(UsageRecord.status)
            .join(Organisation, Organisation.id == UsageRecord.org_id)
            .where(Organisation.name == tenant.name)
        )
        return list(rows)


async def test_quant_stream_abandoned_before_first_byte_is_cancelled(
    app: FastAPI, db: Database, tenant: Tenant, scripted: ScriptedProvider
) -> None:
    ai = f"/api/v3/organizations/{tenant.name}/ai"
    auth = f"Bearer {tenant.service}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
        created = await http.post(f"{ai}/sessions", json={"userId": "u1"}, headers={"Authorization": auth})
    assert created.status_code == 201, created.text
    body = {
        "modelId": "scripted-text",
        "messages": [{"role": "user", "content": "Hi"}],
        "sessionId": created.json()["sessionId"],
    }
    await _post_with_client_gone(app, f"{ai}/chat/stream", body, auth)

    rows = await _assistant_rows(db, tenant)
    assert [row.status for row in rows] == ["cancelled"]
    assert await _usage_statuses(db, tenant) == ["cancelled"]
    assert scripted.requests == []


async def test_waldur_stream_abandoned_before_first_byte_is_cancelled(
    app: FastAPI, db: Database, tenant: Tenant, scripted: ScriptedProvider
) -> None:
    await _post_with_client_gone(app, "/api/chat/stream/", {"input": "Hello"}, f"Token {tenant.member}")

    rows = await _assistant_rows(db, tenant)
    assert [row.status for row in rows] == ["cancelled"]
    assert await _usage_statuses(db, tenant) == ["cancelled"]
    assert scripted.requests == []
