"""The Conversations API through the `openai` SDK, and the same conversation through Quant and Waldur."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.integration.openai_api.conftest import sdk
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.integration


def test_conversation_crud(openai_server: LiveServer, org: Tenant) -> None:
    client = sdk(openai_server, org.member)
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "first"}], metadata={"topic": "demo"}
    )
    assert conversation.id.startswith("conv_") and conversation.metadata == {"topic": "demo"}
    assert client.conversations.retrieve(conversation.id).metadata == {"topic": "demo"}
    updated = client.conversations.update(conversation.id, metadata={"stage": "two"})
    assert updated.metadata == {"stage": "two"}  # replaced, not merged
    deleted = client.conversations.delete(conversation.id)
    assert deleted.deleted is True and deleted.id == conversation.id
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)
    with pytest.raises(openai.BadRequestError):
        client.conversations.create(metadata={f"k{i}": "v" for i in range(17)})


def test_items_paging_create_retrieve_delete(openai_server: LiveServer, org: Tenant) -> None:
    client = sdk(openai_server, org.member)
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": f"m{i}"} for i in range(3)]
    )
    added = client.conversations.items.create(
        conversation.id,
        items=[
            {"type": "message", "role": "assistant", "content": "m3"},
            {"type": "message", "role": "user", "content": "m4"},
        ],
    )
    assert [i.content[0].text for i in added.data] == ["m3", "m4"]  # type: ignore[union-attr]
    first = client.conversations.items.list(conversation.id, limit=2, order="asc")
    assert [i.content[0].text for i in first.data] == ["m0", "m1"] and first.has_more  # type: ignore[union-attr]
    rest = client.conversations.items.list(conversation.id, limit=2, order="asc", after=first.last_id)
    assert [i.content[0].text for i in rest.data] == ["m2", "m3"]  # type: ignore[union-attr]
    everything = [i.content[0].text for i in client.conversations.items.list(conversation.id, limit=2)]  # type: ignore[union-attr]
    assert everything == ["m4", "m3", "m2", "m1", "m0"]  # the SDK follows the cursor; newest first
    middle = rest.data[0].id
    item = client.conversations.items.retrieve(middle, conversation_id=conversation.id)
    assert item.id == middle and item.role == "user"  # type: ignore[union-attr]
    client.conversations.items.delete(middle, conversation_id=conversation.id)
    remaining = [i.content[0].text for i in client.conversations.items.list(conversation.id, order="asc")]  # type: ignore[union-attr]
    assert remaining == ["m0", "m1", "m3", "m4"]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(middle, conversation_id=conversation.id)
    response = client.responses.create(model="gpt-mock", input="m5", conversation=conversation.id)
    assert response.conversation.id == conversation.id  # type: ignore[union-attr]
    latest = client.conversations.items.list(conversation.id, limit=2).data
    assert [i.content[0].text for i in latest] == ["w0 w1 w2 ", "m5"]  # type: ignore[union-attr]


def test_a_conversation_written_here_reads_back_through_quant_and_waldur(
    openai_server: LiveServer, org: Tenant
) -> None:
    client = sdk(openai_server, org.member)
    response = client.responses.create(model="gpt-mock", input="Hello from the OpenAI API")
    conversation_id = response.conversation.id  # type: ignore[union-attr]
    hex_id = conversation_id.removeprefix("conv_")
    quant = httpx.get(
        f"{openai_server.url}/api/v3/organizations/{org.name}/ai/sessions/{hex_id[:8]}-{hex_id[8:12]}-"
        f"{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}",
        headers={"Authorization": f"Bearer {org.member}"},
        timeout=10,
    )
    assert quant.status_code == 200, quant.text
    messages = quant.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "Hello from the OpenAI API" and messages[1]["content"] == "w0 w1 w2 "
    waldur = httpx.get(
        f"{openai_server.url}/api/chat-messages/",
        params={"thread": hex_id},
        headers={"Authorization": f"Token {org.member}"},
        timeout=10,
    )
    assert waldur.status_code == 200, waldur.text
    assert "Hello from the OpenAI API" in waldur.text and "w0 w1 w2" in waldur.text
    # The other way round: another member of the organisation sees none of it.
    outsider = sdk(openai_server, org.members[org.member_user(1)])
    with pytest.raises(openai.NotFoundError):
        outsider.conversations.retrieve(conversation_id)
    with pytest.raises(openai.NotFoundError):
        outsider.responses.retrieve(response.id)
