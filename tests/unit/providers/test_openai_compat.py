"""The OpenAI-compatible provider against recorded HTTP exchanges (respx on the client's httpx2 transport)."""

from __future__ import annotations

import json
import socket

import httpcore2
import httpx
import httpx2
import pytest
import respx

from chatkeep.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    JsonOutput,
    MediaBlock,
    ProviderError,
    TextBlock,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from chatkeep.providers.openai import OpenAICompatProvider
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens
from tests.unit.providers.collect import ask, assert_contract_order, collect, text_of
from tests.unit.providers.sse import openai_chunk, openai_sse

BASE = "http://llm.test/v1"
SSE = {"content-type": "text/event-stream"}


def provider(**kwargs: object) -> OpenAICompatProvider:
    options: dict[str, object] = {"max_retries": 0, **kwargs}
    return OpenAICompatProvider("test", base_url=BASE, api_key="sk-test", **options)  # type: ignore[arg-type]


async def test_streams_text_with_reported_usage(httpx2_mock: respx.Router) -> None:
    body = openai_sse(
        openai_chunk("Hel"),
        openai_chunk("lo!"),
        openai_chunk(finish="stop"),
        openai_chunk(usage={"prompt_tokens": 21, "completion_tokens": 2}, no_choices=True),
    )
    route = httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)

    events = await collect(provider().stream(ask("Say hello", model="gpt-x", temperature=0.5, stop=("END",))))

    assert_contract_order(events)
    assert text_of(events) == "Hello!"
    assert events[-2:] == [Usage(21, 2), Finish("stop")]
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "gpt-x" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent["temperature"] == 0.5 and sent["stop"] == ["END"] and sent["max_tokens"] == 16
    assert route.calls.last.request.headers["authorization"] == "Bearer sk-test"


async def test_counts_usage_when_the_server_reports_none(httpx2_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk("tiktoken is great!"), openai_chunk(finish="length"))
    httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)
    request = ask("hello world", model="gpt-4")

    events = await collect(provider().stream(request))

    assert events[-2:] == [Usage(count_prompt_tokens(request, "cl100k_base"), 6), Finish("length")]
    assert count_prompt_tokens(request, "cl100k_base") == 2 + 3 + 3


async def test_tool_calls_are_assembled_from_fragments(httpx2_mock: respx.Router) -> None:
    first = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"ci'},
    }
    second = {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}
    body = openai_sse(
        openai_chunk("Let me check."),
        openai_chunk(tool_calls=[first]),
        openai_chunk(tool_calls=[second]),
        openai_chunk(finish="tool_calls", usage={"prompt_tokens": 50, "completion_tokens": 9}),
    )
    route = httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = ChatRequest(
        model="m",
        messages=(ChatMessage.of_text("user", "Weather in Oslo?"),),
        tools=(ToolSpec("weather", "Current weather", schema),),
    )

    events = await collect(provider().stream(request))

    assert_contract_order(events)
    assert ToolCall("call_1", "weather", {"city": "Oslo"}) in events
    assert events[-2:] == [Usage(50, 9), Finish("tool_use")]
    sent = json.loads(route.calls.last.request.content)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "description": "Current weather", "parameters": schema},
        }
    ]


async def test_history_with_tools_and_images_is_translated(httpx2_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk("ok", finish="stop"))
    route = httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)
    request = ChatRequest(
        model="m",
        system="Be brief.",
        messages=(
            ChatMessage("user", (TextBlock("What is this?"), MediaBlock("image", "png", b"\x89PNG"))),
            ChatMessage("assistant", (ToolUseBlock("t1", "lookup", {"q": "png"}),)),
            ChatMessage("tool", (ToolResultBlock("t1", "an image format"),)),
        ),
    )

    await collect(provider().stream(request))

    messages = json.loads(route.calls.last.request.content)["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
    ]
    assert messages[2]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": "png"}'}
    assert messages[3] == {"role": "tool", "tool_call_id": "t1", "content": "an image format"}


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (429, {"retry-after": "7"}, "rate_limited", 7.0),
        (429, {"retry-after-ms": "1500"}, "rate_limited", 1.5),
        (401, {}, "auth", None),
        (403, {}, "auth", None),
        (404, {}, "not_found", None),
        (400, {}, "bad_request", None),
        (422, {}, "bad_request", None),
        (500, {}, "upstream", None),
        (503, {}, "upstream", None),
    ],
)
async def test_status_errors_are_mapped(
    httpx2_mock: respx.Router, status: int, headers: dict[str, str], kind: str, retry_after: float | None
) -> None:
    error = {"error": {"message": "nope", "type": "x"}}
    httpx2_mock.post(f"{BASE}/chat/completions").respond(status, json=error, headers=headers)
    with pytest.raises(ProviderError) as caught:
        await collect(provider().stream(ask("hi")))
    assert caught.value.kind == kind
    assert caught.value.retry_after == retry_after
    assert str(status) in caught.value.message


async def test_client_timeout_is_a_timeout(httpx2_mock: respx.Router) -> None:
    # Raised where a real read timeout starts: in httpcore2, which httpx2 maps to its ReadTimeout.
    httpx2_mock.post(f"{BASE}/chat/completions").mock(side_effect=httpcore2.ReadTimeout("slow"))
    with pytest.raises(ProviderError) as caught:
        await collect(provider().stream(ask("hi")))
    assert caught.value.kind == "timeout"


async def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = OpenAICompatProvider("test", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(ProviderError) as caught:
        await collect(closed.stream(ask("hi")))
    assert caught.value.kind == "unavailable"
    await closed.aclose()


async def test_error_event_inside_the_stream_is_upstream(httpx2_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk("partial"), {"error": {"message": "model crashed"}})
    httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for event in provider().stream(ask("hi")):
            seen.append(event)
    assert caught.value.kind == "upstream" and "model crashed" in caught.value.message
    assert text_of(seen) == "partial"


async def test_stream_without_finish_reason_is_an_upstream_error(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(f"{BASE}/chat/completions").respond(
        200, content=openai_sse(openai_chunk("cut")), headers=SSE
    )
    with pytest.raises(ProviderError) as caught:
        await collect(provider().stream(ask("hi")))
    assert caught.value.kind == "upstream"


async def test_embeddings(httpx2_mock: respx.Router) -> None:
    answer = {
        "object": "list",
        "model": "emb",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0.0, 1.0]},
            {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]},
        ],
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
    route = httpx2_mock.post(f"{BASE}/embeddings").respond(200, json=answer)

    result = await provider().embed(
        ["hello world", "tiktoken is great!"], model="text-embedding-3-small", dimensions=2
    )

    assert result.vectors == [[1.0, 0.0], [0.0, 1.0]]  # back in input order
    assert result.input_tokens == 2 + 6  # the server reported 0: counted with cl100k_base
    assert json.loads(route.calls.last.request.content)["dimensions"] == 2


async def test_an_injected_client_is_used_and_closed(httpx2_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk("x", finish="stop", usage={"prompt_tokens": 1, "completion_tokens": 1}))
    httpx2_mock.post("http://other.test/v1/chat/completions").respond(200, content=body, headers=SSE)
    http = httpx2.AsyncClient()
    p = OpenAICompatProvider("injected", base_url="http://other.test/v1", http=http, max_retries=0)
    assert text_of(await collect(p.stream(ask("hi")))) == "x"
    assert p.count_tokens("hello world", model="gpt-4") == count_tokens("hello world", "cl100k_base")
    await p.aclose()
    assert http.is_closed


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            JsonOutput({"type": "object", "properties": {"n": {"type": "integer"}}}, name="count"),
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "count",
                    "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                },
            },
        ),
        (JsonOutput(), {"type": "json_object"}),
    ],
)
async def test_structured_output_is_sent_as_response_format(
    httpx2_mock: respx.Router, output: JsonOutput, expected: dict[str, object]
) -> None:
    body = openai_sse(openai_chunk('{"n": 3}', finish="stop"))
    route = httpx2_mock.post(f"{BASE}/chat/completions").respond(200, content=body, headers=SSE)

    events = await collect(provider().stream(ask("Count", response_format=output)))

    assert json.loads(text_of(events)) == {"n": 3}
    assert json.loads(route.calls.last.request.content)["response_format"] == expected


async def test_transient_failures_are_retried_with_the_retry_count(httpx2_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk("ok", finish="stop"))
    route = httpx2_mock.post(f"{BASE}/chat/completions")
    route.side_effect = [
        httpx.Response(503, json={"error": {"message": "busy"}}),
        httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after-ms": "10"}),
        httpx.Response(200, content=body, headers=SSE),
    ]

    events = await collect(provider(max_retries=2).stream(ask("hi")))

    assert text_of(events) == "ok"
    counts = [call.request.headers["x-stainless-retry-count"] for call in route.calls]
    assert counts == ["0", "1", "2"]


async def test_a_client_error_is_not_retried(httpx2_mock: respx.Router) -> None:
    route = httpx2_mock.post(f"{BASE}/chat/completions").respond(400, json={"error": {"message": "bad"}})
    with pytest.raises(ProviderError, match="400: bad") as caught:
        await collect(provider(max_retries=2).stream(ask("hi")))
    assert caught.value.kind == "bad_request" and route.call_count == 1


async def test_a_malformed_embeddings_answer_is_an_upstream_error(httpx2_mock: respx.Router) -> None:
    httpx2_mock.post(f"{BASE}/embeddings").respond(200, json={"data": [{"index": 0}]})
    with pytest.raises(ProviderError, match="malformed") as caught:
        await provider().embed(["x"], model="emb")
    assert caught.value.kind == "upstream"
