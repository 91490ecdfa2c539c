"""The official `waldur-api-client` streams a chat turn with the real embedded model.

Its generated `chat_stream` cannot parse NDJSON and raises UnexpectedStatus even on 200, carrying the
whole body; we assert on that raw body, as the client's users must.
"""

from __future__ import annotations

import json

import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.chat import chat_stream
from waldur_api_client.api.chat_messages import chat_messages_list
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models import ChatRequestRequest

from chatkeep.core import org_config
from chatkeep.core.api_tokens import authenticate
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from tests.support import LiveServer, make_tenant

pytestmark = pytest.mark.integration


async def test_chat_stream_through_the_official_client(live_server: LiveServer, db: Database) -> None:
    tenant = await make_tenant(db)
    async with db.write() as session:
        admin = (await authenticate(session, secret=tenant.admin)).principal
        principal = Principal(org_id=admin.org_id, org_name=admin.org_name, user_id="admin", role=Role.ADMIN)
        # Keep the real model's answers short so the test stays fast.
        await org_config.update(session, principal=principal, changes={"max_tokens": 12}, known_models={""})
    client = AuthenticatedClient(base_url=live_server.url, token=tenant.member, prefix="Token", timeout=60)
    with pytest.raises(UnexpectedStatus) as raised:
        chat_stream.sync_detailed(client=client, body=ChatRequestRequest(input_="Say hello in three words."))
    assert raised.value.status_code == 200
    records = [json.loads(line) for line in raised.value.content.decode().splitlines()]
    thread = records[0]["m"]["thread_uuid"]
    assert records[-1]["m"]["done"] is True
    text = "".join(r["c"] for r in records if r.get("k") == "markdown")
    assert text.strip()
    messages = chat_messages_list.sync(client=client, thread=thread)
    assert messages is not None
    # 8.1.3 clients read `blocks`; the 8.0.6 `content` key rides along as an additional property.
    assert [(m.role.value, m.additional_properties["content"]) for m in messages] == [
        ("user", "Say hello in three words."),
        ("assistant", text),
    ]
    assert messages[1].output_tokens and messages[1].output_tokens <= 12
    assert messages[1].uuid.hex == records[-1]["m"]["assistant_message_uuid"]
