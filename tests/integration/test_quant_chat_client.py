"""Chat with the real embedded model over HTTP: the official client and a standard SSE parser."""

from __future__ import annotations

import json

import httpx
import pytest
import quantcdn
from httpx_sse import connect_sse

from chatkeep.storage.database import Database
from tests.support import LiveServer, Tenant, make_tenant

pytestmark = pytest.mark.integration
EMBEDDED = "smollm2-135m-instruct"


@pytest.fixture
async def chat_tenant(db: Database) -> Tenant:
    return await make_tenant(db)


def client_for(server: LiveServer, token: str) -> quantcdn.ApiClient:
    return quantcdn.ApiClient(quantcdn.Configuration(host=server.url, access_token=token))


def test_buffered_chat_generates_with_the_embedded_model(
    live_server: LiveServer, chat_tenant: Tenant
) -> None:
    api = quantcdn.AIInferenceApi(client_for(live_server, chat_tenant.service))
    result = api.chat_inference(
        chat_tenant.name,
        quantcdn.ChatInferenceRequest(
            model_id=EMBEDDED,
            max_tokens=12,
            temperature=0.2,
            messages=[
                quantcdn.ChatInferenceRequestMessagesInner(
                    role="user", content=quantcdn.ChatInferenceRequestMessagesInnerContent("Name a colour.")
                )
            ],
        ),
    )
    assert isinstance(result, quantcdn.ChatInference200Response)
    assert result.response is not None and result.response.role == "assistant" and result.response.content
    assert result.finish_reason in ("stop", "length")
    assert result.usage is not None and result.usage.input_tokens and 0 < result.usage.output_tokens <= 12
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens

    usage = quantcdn.AIMonitoringApi(client_for(live_server, chat_tenant.admin)).get_ai_usage_stats(
        chat_tenant.name
    )
    assert usage.total_requests == 1 and usage.total_tokens == result.usage.total_tokens
    assert usage.by_model is not None and usage.by_model[EMBEDDED].requests == 1


def test_models_calls_parse(live_server: LiveServer, chat_tenant: Tenant) -> None:
    api = quantcdn.AIModelsApi(client_for(live_server, chat_tenant.member))
    listed = api.list_ai_models(chat_tenant.name)
    assert listed.count == 1 and listed.models and listed.models[0].id == EMBEDDED
    assert listed.models[0].capabilities is not None and listed.models[0].capabilities.streaming is True
    detail = api.get_ai_model(chat_tenant.name, EMBEDDED)
    assert detail.id == EMBEDDED and detail.context_window and detail.max_output_tokens
    assert detail.description and "demo" in detail.description.lower()


def test_stream_with_session_reads_with_a_standard_sse_parser(
    live_server: LiveServer, chat_tenant: Tenant
) -> None:
    sessions = quantcdn.AISessionsApi(client_for(live_server, chat_tenant.service))
    sid = sessions.create_ai_session(
        chat_tenant.name, quantcdn.CreateAISessionRequest(user_id="walker")
    ).session_id
    url = f"{live_server.url}/api/v3/organizations/{chat_tenant.name}/ai/chat/stream"
    body = {
        "modelId": EMBEDDED,
        "maxTokens": 12,
        "sessionId": sid,
        "messages": [{"role": "user", "content": "Say hello."}],
    }
    with (
        httpx.Client(timeout=60) as http,
        connect_sse(
            http, "POST", url, json=body, headers={"Authorization": f"Bearer {chat_tenant.service}"}
        ) as source,
    ):
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [(sse.event, sse.id, json.loads(sse.data)) for sse in source.iter_sse()]
    names = [name for name, _, _ in events]
    assert names[0] == "start" and names[-1] == "done" and "content" in names
    assert [event_id for _, event_id, _ in events] == [f"chunk-{i}" for i in range(1, len(events) + 1)]
    text = "".join(data["delta"] for name, _, data in events if name == "content")
    done = events[-1][2]
    assert done["complete"] is True and done["content"] == text and done["usage"]["outputTokens"] > 0
    stored = sessions.get_ai_session(chat_tenant.name, sid)
    assert stored.messages is not None
    assert [m["role"] for m in stored.messages] == ["user", "assistant"]
    assert stored.messages[1]["content"] == text


def test_official_client_stream_call_returns_the_whole_sse_body(
    live_server: LiveServer, chat_tenant: Tenant
) -> None:
    api = quantcdn.AIInferenceApi(client_for(live_server, chat_tenant.service))
    raw = api.chat_inference_stream(
        chat_tenant.name,
        quantcdn.ChatInferenceStreamRequest(
            model_id=EMBEDDED,
            max_tokens=8,
            messages=[
                quantcdn.ChatInferenceStreamRequestMessagesInner(
                    role="user", content=quantcdn.ChatInferenceStreamRequestMessagesInnerContent("Hi")
                )
            ],
        ),
    )
    assert isinstance(raw, str)
    assert raw.startswith("id: chunk-1") and "event: start" in raw and "event: done" in raw
    assert '"complete":true' in raw


def test_embeddings_through_the_official_client(live_server: LiveServer, chat_tenant: Tenant) -> None:
    api = quantcdn.AIInferenceApi(client_for(live_server, chat_tenant.service))
    single = api.embeddings(
        chat_tenant.name,
        quantcdn.EmbeddingsRequest(
            input=quantcdn.EmbeddingsRequestInput("a red apple"), model_id=EMBEDDED, dimensions=None
        ),
    )
    assert single.model == EMBEDDED and single.dimension == 576
    vector = single.embeddings.actual_instance
    assert isinstance(vector, list) and len(vector) == 576
    assert abs(sum(x * x for x in vector) - 1.0) < 1e-3  # normalised
    batch = api.embeddings(
        chat_tenant.name,
        quantcdn.EmbeddingsRequest(
            input=quantcdn.EmbeddingsRequestInput(["a red apple", "a green pear"]),
            model_id=EMBEDDED,
            dimensions=None,
        ),
    )
    vectors = batch.embeddings.actual_instance
    assert isinstance(vectors, list) and len(vectors) == 2 and len(vectors[1]) == 576
    assert batch.usage.input_tokens > single.usage.input_tokens
