"""What the Quant sessions API costs the database: create (with first messages), get and list run their
statements prepared on the driver, none through SQLAlchemy's execution layer (see storage.direct)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from chatkeep.storage.direct import DirectTransaction
from tests.support import Tenant
from tests.unit.dialects.test_quant_sessions import bearer

FIRST_MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "How do I reset my password?"},
    {"role": "assistant", "content": "Use the 'Forgot password' link."},
]
# Set in the request's context only: the app's background work (housekeeping at startup) is not counted.
_IN_CALL: ContextVar[bool] = ContextVar("in_call", default=False)


async def statements_of(
    monkeypatch: pytest.MonkeyPatch, call: Callable[[], Awaitable[httpx.Response]]
) -> tuple[httpx.Response, list[str], list[str]]:
    """The response to `call`, the statements it ran on the driver and those it ran through SQLAlchemy."""
    direct: list[str] = []
    through_sqlalchemy: list[str] = []
    original = DirectTransaction._call

    async def counted(self: DirectTransaction, sql: str, arguments: Any, *, many: bool) -> Any:
        if _IN_CALL.get():
            direct.append(sql)
        return await original(self, sql, arguments, many=many)

    def noted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # SQLAlchemy's greenlets share the context of the task that awaits them.
        if _IN_CALL.get() and not statement.startswith("BEGIN"):
            through_sqlalchemy.append(statement)

    with monkeypatch.context() as patched:
        patched.setattr(DirectTransaction, "_call", counted)
        event.listen(Engine, "before_cursor_execute", noted)  # every engine: the app has its own
        marked = _IN_CALL.set(True)
        try:
            response = await call()
        finally:
            _IN_CALL.reset(marked)
            event.remove(Engine, "before_cursor_execute", noted)
    return response, direct, through_sqlalchemy


async def test_create_get_and_list_run_their_statements_on_the_driver(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ai = f"/api/v3/organizations/{tenant.name}/ai"
    headers = bearer(tenant.service)
    body = {"userId": "u", "sessionGroup": "g", "metadata": {"k": 1}, "initialMessages": FIRST_MESSAGES}

    created, direct, through_sqlalchemy = await statements_of(
        monkeypatch, lambda: client.post(f"{ai}/sessions", json=body, headers=headers)
    )
    assert created.status_code == 201, created.text
    # The token; the conversation, its owner's chat session, the first messages, the leaf.
    assert len(direct) == 5, direct
    assert through_sqlalchemy == []
    sid = created.json()["sessionId"]

    found, direct, through_sqlalchemy = await statements_of(
        monkeypatch, lambda: client.get(f"{ai}/sessions/{sid}", headers=headers)
    )
    assert found.status_code == 200, found.text
    assert [m["content"] for m in found.json()["messages"]] == [m["content"] for m in FIRST_MESSAGES]
    assert len(direct) == 3, direct  # the token, the conversation, the history
    assert through_sqlalchemy == []

    listed, direct, through_sqlalchemy = await statements_of(
        monkeypatch, lambda: client.get(f"{ai}/sessions?userId=u&sessionGroup=g&limit=5", headers=headers)
    )
    assert listed.status_code == 200, listed.text
    assert [s["sessionId"] for s in listed.json()] == [sid]
    assert len(direct) == 2, direct  # the token, the page
    assert through_sqlalchemy == []


async def test_a_members_list_and_an_unknown_session_stay_on_the_driver(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ai = f"/api/v3/organizations/{tenant.name}/ai"
    headers = bearer(tenant.member)
    listed, direct, through_sqlalchemy = await statements_of(
        monkeypatch, lambda: client.get(f"{ai}/sessions", headers=headers)
    )
    assert listed.status_code == 200, listed.text
    assert len(direct) == 2, direct
    assert through_sqlalchemy == []

    missing, direct, through_sqlalchemy = await statements_of(
        monkeypatch,
        lambda: client.get(f"{ai}/sessions/00000000-0000-4000-8000-000000000000", headers=headers),
    )
    assert missing.status_code == 404, missing.text
    assert len(direct) == 2, direct  # the token, the conversation (none)
    assert through_sqlalchemy == []
