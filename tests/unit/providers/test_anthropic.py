"""The Anthropic provider against recorded Messages API exchanges (respx on the SDK's httpx2 transport)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from chatkeep.providers.anthropic import AnthropicProvider
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
from tests.unit.providers.collect import ask, assert_contract_order, collect, text_of
from tests.unit.providers.sse import anthropic_sse

BASE = "http://anthropic.test"
URL = f"{BASE}/v1/messages"
SSE = {"content-type": "text/event-stream"}


def provider() -> AnthropicProvider:
    return AnthropicProvider("claude", api_key="sk-ant-test", base_url=BASE, max_retries=0)


def message_start(input_tokens: int, **cache: int) -> dict[str, Any]:
    usage = {"input_tokens": input_tokens, "output_tokens": 1, **cache}
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return {"type": "message_start", "message": message}


def text_block(index: int, *pieces: str) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}}
            for p in pieces
        ),
        {"type": "content_block_stop", "index": index},
    ]


def message_end(stop_reason: str, output_tokens: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


async def test_streams_text_and_usage(httpx2_mock: respx.Router) -> None:
    body = anthropic_sse(
        message_start(25, cache_read_input_tokens=100),
        {"type": "ping"},
        *text_block(0, "Hello", ", world"),
        *message_end("end_turn", 12),
    )
    route = httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    request = ChatRequest(
        model="claude-test",
        system="Be brief.",
        messages=(ChatMessage.of_text("user", "Hi"),),
        max_tokens=100,
        temperature=0.3,
        stop=("###",),
    )

    events = await collect(provider().stream(request))

    assert_contract_order(events)
    assert text_of(events) == "Hello, world"
    assert events[-2:] == [Usage(input_tokens=125, output_tokens=12), Finish("stop")]
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "claude-test" and sent["stream"] is True and sent["max_tokens"] == 100
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert sent["temperature"] == 0.3 and "top_p" not in sent
    assert sent["stop_sequences"] == ["###"]
    headers = route.calls.last.request.headers
    assert "sk-ant-test" in (headers.get("x-api-key", "") + headers.get("authorization", ""))


async def test_tool_use_is_assembled_and_finishes_as_tool_use(httpx2_mock: respx.Router) -> None:
    tool_start = {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}}
    body = anthropic_sse(
        message_start(40),
        *text_block(0, "Checking."),
        {"type": "content_block_start", "index": 1, "content_block": tool_start},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": '},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '"Oslo"}'},
        },
        {"type": "content_block_stop", "index": 1},
        *message_end("tool_use", 30),
    )
    route = httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = ChatRequest(
        model="claude-test",
        messages=(ChatMessage.of_text("user", "Weather?"),),
        tools=(ToolSpec("weather", "Current weather", schema),),
    )

    events = await collect(provider().stream(request))

    assert_contract_order(events)
    assert events[1] == ToolCall("toolu_1", "weather", {"city": "Oslo"})
    assert events[-2:] == [Usage(40, 30), Finish("tool_use")]
    sent = json.loads(route.calls.last.request.content)
    assert sent["tools"] == [{"name": "weather", "description": "Current weather", "input_schema": schema}]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("max_tokens", "length"), ("stop_sequence", "stop"), ("refusal", "content_filter")],
)
async def test_stop_reasons(httpx2_mock: respx.Router, stop_reason: str, finish: str) -> None:
    body = anthropic_sse(message_start(3), *text_block(0, "x"), *message_end(stop_reason, 1))
    httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    events = await collect(provider().stream(ask("hi")))
    assert events[-1] == Finish(finish)  # type: ignore[arg-type]


async def test_history_with_tools_and_media_is_translated(httpx2_mock: respx.Router) -> None:
    body = anthropic_sse(message_start(3), *text_block(0, "ok"), *message_end("end_turn", 1))
    route = httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    request = ChatRequest(
        model="claude-test",
        messages=(
            ChatMessage(
                "user",
                (
                    TextBlock("Read these."),
                    MediaBlock("image", "jpg", b"\xff\xd8"),
                    MediaBlock("document", "pdf", b"%PDF", "report.pdf"),
                ),
            ),
            ChatMessage("assistant", (ToolUseBlock("toolu_9", "search", {"q": "x"}),)),
            ChatMessage("tool", (ToolResultBlock("toolu_9", "found"),)),
            ChatMessage.of_text("user", "Thanks"),
        ),
    )

    await collect(provider().stream(request))

    messages = json.loads(route.calls.last.request.content)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]  # tool result + next user merged
    image, pdf = messages[0]["content"][1:]
    assert image == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9g="},
    }
    assert pdf["source"] == {"type": "base64", "media_type": "application/pdf", "data": "JVBERg=="}
    assert pdf["title"] == "report.pdf"
    assert messages[1]["content"] == [
        {"type": "tool_use", "id": "toolu_9", "name": "search", "input": {"q": "x"}}
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_9", "content": "found"},
        {"type": "text", "text": "Thanks"},
    ]


async def test_video_is_refused_before_any_call(httpx2_mock: respx.Router) -> None:
    request = ChatRequest(model="m", messages=(ChatMessage("user", (MediaBlock("video", "mp4", b"..."),)),))
    with pytest.raises(ProviderError) as caught:
        await collect(provider().stream(request))
    assert caught.value.kind == "bad_request"
    assert not httpx2_mock.calls


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.mark.parametrize(
    ("status", "error_type", "headers", "kind", "retry_after"),
    [
        (429, "rate_limit_error", {"retry-after": "30"}, "rate_limited", 30.0),
        (401, "authentication_error", {}, "auth", None),
        (403, "permission_error", {}, "auth", None),
        (404, "not_found_error", {}, "not_found", None),
        (400, "invalid_request_error", {}, "bad_request", None),
        (500, "api_error", {}, "upstream", None),
        (529, "overloaded_error", {}, "unavailable", None),
    ],
)
async def test_status_errors_are_mapped(
    httpx2_mock: respx.Router,
    status: int,
    error_type: str,
    headers: dict[str, str],
    kind: str,
    retry_after: float | None,
) -> None:
    httpx2_mock.post(URL).respond(status, json=error_body(error_type, "nope"), headers=headers)
    with pytest.raises(ProviderError) as caught:
        await collect(provider().stream(ask("hi")))
    assert caught.value.kind == kind
    assert caught.value.retry_after == retry_after
    assert error_type in caught.value.message


async def test_error_event_mid_stream_keeps_the_text_before_it(httpx2_mock: respx.Router) -> None:
    body = anthropic_sse(
        message_start(5),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Par"}},
        error_body("overloaded_error", "Overloaded"),
    )
    httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for event in provider().stream(ask("hi")):
            seen.append(event)
    assert caught.value.kind == "unavailable"
    assert text_of(seen) == "Par"


async def test_embeddings_are_not_offered() -> None:
    with pytest.raises(ProviderError) as caught:
        await provider().embed(["x"], model="claude-test")
    assert caught.value.kind == "bad_request"


async def test_a_missing_api_key_is_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(ProviderError) as caught:
        await collect(AnthropicProvider("claude", base_url=BASE).stream(ask("hi")))
    assert caught.value.kind == "auth" and "claude" in caught.value.message


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def answer_tool_block(index: int, *pieces: str) -> list[dict[str, Any]]:
    start = {"type": "tool_use", "id": "toolu_7", "name": "json_answer", "input": {}}
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in pieces
        ),
        {"type": "content_block_stop", "index": index},
    ]


async def test_structured_output_is_a_forced_tool_whose_input_streams_as_text(
    httpx2_mock: respx.Router,
) -> None:
    body = anthropic_sse(
        message_start(30),
        *answer_tool_block(0, "", '{"name": "Ada", ', '"age": 36}'),
        *message_end("tool_use", 11),
    )
    route = httpx2_mock.post(URL).respond(200, content=body, headers=SSE)

    events = await collect(provider().stream(ask("Who?", response_format=JsonOutput(PERSON))))

    assert_contract_order(events)
    assert json.loads(text_of(events)) == {"name": "Ada", "age": 36}
    assert not [e for e in events if isinstance(e, ToolCall)]
    assert events[-2:] == [Usage(30, 11), Finish("stop")]
    sent = json.loads(route.calls.last.request.content)
    assert sent["tool_choice"] == {"type": "tool", "name": "json_answer"}
    assert [(t["name"], t["input_schema"]) for t in sent["tools"]] == [("json_answer", PERSON)]


async def test_structured_output_without_a_schema_asks_for_any_object(httpx2_mock: respx.Router) -> None:
    body = anthropic_sse(message_start(5), *answer_tool_block(0, '{"ok": true}'), *message_end("tool_use", 3))
    route = httpx2_mock.post(URL).respond(200, content=body, headers=SSE)
    tools = (ToolSpec("lookup", "Look up", {"type": "object"}),)

    events = await collect(provider().stream(ask("Ok?", response_format=JsonOutput(), tools=tools)))

    assert json.loads(text_of(events)) == {"ok": True}
    sent = json.loads(route.calls.last.request.content)
    assert sent["tool_choice"] == {"type": "any"}  # the client's own tools stay callable
    assert [(t["name"], t["input_schema"]) for t in sent["tools"]][-1] == ("json_answer", {"type": "object"})
