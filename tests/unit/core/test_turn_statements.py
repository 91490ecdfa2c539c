"""What one buffered turn with a session costs the database: its statements, and how few of them go
through SQLAlchemy's execution layer (the rest run prepared on the driver; see storage.direct)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from chatkeep.storage.direct import DirectTransaction
from tests.support import Tenant
from tests.unit.dialects.test_quant_sessions import bearer


async def test_a_buffered_turn_runs_its_statements_on_the_driver(
    scripted_client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    ai = f"/api/v3/organizations/{tenant.name}/ai"
    headers = bearer(tenant.service)
    sid = (await scripted_client.post(f"{ai}/sessions", json={"userId": "u"}, headers=headers)).json()[
        "sessionId"
    ]
    body = {"modelId": "scripted-text", "sessionId": sid, "messages": [{"role": "user", "content": "Hi"}]}
    assert (await scripted_client.post(f"{ai}/chat", json=body, headers=headers)).status_code == 200

    direct: list[str] = []
    through_sqlalchemy: list[str] = []
    original = DirectTransaction._call

    async def counted(self: DirectTransaction, sql: str, arguments: Any, *, many: bool) -> Any:
        direct.append(sql)
        return await original(self, sql, arguments, many=many)

    def noted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            through_sqlalchemy.append(statement)

    monkeypatch.setattr(DirectTransaction, "_call", counted)
    event.listen(Engine, "before_cursor_execute", noted)  # every engine: the app has its own
    try:
        response = await scripted_client.post(f"{ai}/chat", json=body, headers=headers)
    finally:
        event.remove(Engine, "before_cursor_execute", noted)
    assert response.status_code == 200
    # The token, the turn's facts, the conversation row, the chain, the leaf, the history, the settle (the
    # answer, the conversation's total, the usage row).
    assert len(direct) == 9, direct
    assert through_sqlalchemy == []
