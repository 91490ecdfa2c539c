"""Drives message content and token secrets through every kind of request, so tests can look for leaks.

`exercise` sends a unique marker (inside text the PII guard matches: an email address and a phone number)
through Quant sessions, chat and chat/stream and the Waldur stream, reads it back, fails authentication in
both dialects, and triggers a 500 by having the database refuse an insert (`refuse_inserts_containing`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from sqlalchemy import inspect, text

from chatkeep.core.api_tokens import TOKEN_PREFIX
from chatkeep.storage.database import Database
from tests.support import Tenant


@dataclass
class Probe:
    """The strings that must never reach a log: a content marker and token secrets."""

    marker: str = field(default_factory=lambda: f"zq{uuid.uuid4().hex}")
    fail_marker: str = field(default_factory=lambda: f"zf{uuid.uuid4().hex}")
    bogus_secrets: tuple[str, ...] = field(
        default_factory=lambda: tuple(TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(2))
    )
    extra_secrets: list[str] = field(default_factory=list)

    def content(self) -> str:
        return f"Remember the word {self.marker}. Mail {self.marker}@example.com or call +44 20 7946 0958."

    def secrets_of(self, *tenants: Tenant) -> list[str]:
        found = [*self.bogus_secrets, *self.extra_secrets]
        for tenant in tenants:
            found += [tenant.admin, tenant.service, *tenant.members.values()]
        return found


async def exercise(
    client: httpx.AsyncClient,
    probe: Probe,
    tenant: Tenant,
    other: Tenant,
    *,
    model: str,
    service_secret: str | None = None,
) -> dict[str, int]:
    """Run the requests (Quant ones with `service_secret`, default the tenant's); status code by name."""
    ai = f"/api/v3/organizations/{tenant.name}/ai"
    admin, service = _bearer(tenant.admin), _bearer(service_secret or tenant.service)
    member = {"Authorization": f"Token {tenant.member}"}
    said = [{"role": "user", "content": probe.content()}]
    status: dict[str, int] = {}
    # Short answers keep the embedded model quick; Waldur's stream has no per-request limit.
    status["config"] = (await client.put(ai + "/config", json={"max_tokens": 8}, headers=admin)).status_code
    created = await client.post(
        ai + "/sessions", json={"userId": "probe", "initialMessages": said}, headers=service
    )
    status["session"] = created.status_code
    session_id = created.json()["sessionId"]
    chat = {"modelId": model, "maxTokens": 8, "messages": said}
    status["chat"] = (
        await client.post(ai + "/chat", json={**chat, "sessionId": session_id}, headers=service)
    ).status_code
    status["stream"] = (await client.post(ai + "/chat/stream", json=chat, headers=service)).status_code
    status["read_back"] = (await client.get(f"{ai}/sessions/{session_id}", headers=service)).status_code
    stream = await client.post("/api/chat/stream/", json={"input": probe.content()}, headers=member)
    status["waldur_stream"] = stream.status_code
    thread = json.loads(stream.text.splitlines()[0])["m"]["thread_uuid"]
    status["waldur_read_back"] = (
        await client.get(f"/api/chat-messages/?thread={thread}", headers=member)
    ).status_code
    status["bad_bearer"] = (
        await client.get(ai + "/sessions", headers=_bearer(probe.bogus_secrets[0]))
    ).status_code
    bad_token = {"Authorization": f"Token {probe.bogus_secrets[1]}"}
    status["bad_token"] = (await client.get("/api/chat-threads/", headers=bad_token)).status_code
    wrong_org = f"/api/v3/organizations/{other.name}/ai/sessions"
    status["wrong_org"] = (await client.get(wrong_org, headers=_bearer(tenant.service))).status_code
    failing = [{"role": "user", "content": f"{probe.content()} {probe.fail_marker}"}]
    refused = await client.post(
        ai + "/sessions", json={"userId": "probe", "initialMessages": failing}, headers=service
    )
    status["refused_insert"] = refused.status_code
    return status


EXPECTED = {
    "config": 200,
    "session": 201,
    "chat": 200,
    "stream": 200,
    "read_back": 200,
    "waldur_stream": 200,
    "waldur_read_back": 200,
    "bad_bearer": 401,
    "bad_token": 401,
    "wrong_org": 403,
    "refused_insert": 500,
}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextlib.asynccontextmanager
async def refuse_inserts_containing(db: Database, marker: str) -> AsyncIterator[None]:
    """While open, the database rejects any message whose content holds `marker`: a real 500 path."""
    name = f"refuse_{uuid.uuid4().hex[:12]}"
    if db.is_sqlite:
        create = [
            f"CREATE TRIGGER {name} BEFORE INSERT ON messages WHEN instr(NEW.content, '{marker}') > 0 "
            "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name}"]
    else:
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF position('{marker}' in NEW.content) > 0 THEN RAISE EXCEPTION 'refused by test trigger'; "
            "END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name} ON messages", f"DROP FUNCTION IF EXISTS {name}()"]
    async with db.write() as session:
        for statement in create:
            await session.execute(text(statement))
    try:
        yield
    finally:
        async with db.write() as session:
            for statement in drop:
                await session.execute(text(statement))


async def dump_database(db: Database) -> str:
    """Every row of every table (whatever its model), as text."""
    async with db.read() as session:
        names = await session.run_sync(lambda sync: inspect(sync.connection()).get_table_names())
        rows = [repr((await session.execute(text(f'SELECT * FROM "{name}"'))).all()) for name in names]
    return "\n".join(rows)
