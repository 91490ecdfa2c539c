"""The Bedrock provider: ConverseStream parsed by real botocore, errors and parameters via the Stubber."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber

from chatkeep.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    JsonOutput,
    MediaBlock,
    ProviderError,
    TextBlock,
    TextDelta,
    ToolCall,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UnsupportedFeature,
    Usage,
)
from chatkeep.providers.bedrock import BedrockProvider
from chatkeep.providers.bedrock.messages import converse_params, document_name
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens
from tests.unit.providers.collect import ask, assert_contract_order, collect, text_of
from tests.unit.providers.eventstream import RawStream, event, exception

MODEL = "amazon.nova-lite-v1:0"


@pytest.fixture
def client() -> Iterator[Any]:
    bedrock = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),  # no retries: each stubbed answer is used once
    )
    yield bedrock
    bedrock.close()


def answer_with(client: Any, raw: RawStream, sent: list[Any] | None = None) -> None:
    """Answer ConverseStream at the HTTP layer with `raw`'s event-stream bytes."""

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        if sent is not None:
            sent.append(request)
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return AWSResponse(request.url, 200, headers, raw)

    client.meta.events.register("before-send.bedrock-runtime.ConverseStream", send)


def text_events(*pieces: str, stop: str = "end_turn", usage: tuple[int, int] | None = (12, 3)) -> list[bytes]:
    out = [event("messageStart", {"role": "assistant"})]
    out += [event("contentBlockDelta", {"delta": {"text": p}, "contentBlockIndex": 0}) for p in pieces]
    out += [event("contentBlockStop", {"contentBlockIndex": 0}), event("messageStop", {"stopReason": stop})]
    if usage is not None:
        totals = {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": sum(usage)}
        out.append(event("metadata", {"usage": totals, "metrics": {"latencyMs": 42}}))
    return out


async def test_streams_text_and_usage(client: Any) -> None:
    sent: list[Any] = []
    answer_with(client, RawStream(text_events("Hello", " there")), sent)

    events = await collect(BedrockProvider(client=client).stream(ask("Hi", model=MODEL, temperature=0.1)))

    assert_contract_order(events)
    assert text_of(events) == "Hello there"
    assert events[-2:] == [Usage(12, 3), Finish("stop")]
    assert sent[0].url.endswith("/model/amazon.nova-lite-v1%3A0/converse-stream")
    body = json.loads(sent[0].body)
    assert body["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    assert body["inferenceConfig"] == {"maxTokens": 16, "temperature": 0.1}


async def test_tool_use_is_assembled(client: Any) -> None:
    start = {"start": {"toolUse": {"toolUseId": "tu_1", "name": "weather"}}, "contentBlockIndex": 1}
    messages = [
        event("messageStart", {"role": "assistant"}),
        event("contentBlockDelta", {"delta": {"text": "Checking."}, "contentBlockIndex": 0}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("contentBlockStart", start),
        event("contentBlockDelta", {"delta": {"toolUse": {"input": '{"city":'}}, "contentBlockIndex": 1}),
        event("contentBlockDelta", {"delta": {"toolUse": {"input": ' "Oslo"}'}}, "contentBlockIndex": 1}),
        event("contentBlockStop", {"contentBlockIndex": 1}),
        event("messageStop", {"stopReason": "tool_use"}),
        event(
            "metadata", {"usage": {"inputTokens": 30, "outputTokens": 20, "totalTokens": 50}, "metrics": {}}
        ),
    ]
    answer_with(client, RawStream(messages))

    events = await collect(BedrockProvider(client=client).stream(ask("Weather?", model=MODEL)))

    assert_contract_order(events)
    assert events[:2] == [TextDelta("Checking."), ToolCall("tu_1", "weather", {"city": "Oslo"})]
    assert events[-2:] == [Usage(30, 20), Finish("tool_use")]


@pytest.mark.parametrize(
    ("stop", "finish"),
    [("max_tokens", "length"), ("guardrail_intervened", "content_filter"), ("stop_sequence", "stop")],
)
async def test_stop_reasons(client: Any, stop: str, finish: str) -> None:
    answer_with(client, RawStream(text_events("x", stop=stop)))
    events = await collect(BedrockProvider(client=client).stream(ask("hi", model=MODEL)))
    assert events[-1] == Finish(finish)  # type: ignore[arg-type]


async def test_usage_is_counted_when_metadata_is_missing(client: Any) -> None:
    answer_with(client, RawStream(text_events("tiktoken is great!", usage=None)))
    request = ask("hello world", model=MODEL)
    events = await collect(BedrockProvider(client=client).stream(request))
    assert events[-2] == Usage(
        count_prompt_tokens(request, "cl100k_base"), count_tokens("tiktoken is great!")
    )


@pytest.mark.parametrize(
    ("exception_type", "kind"),
    [
        ("throttlingException", "rate_limited"),
        ("modelStreamErrorException", "upstream"),
        ("validationException", "bad_request"),
    ],
)
async def test_exception_inside_the_stream(client: Any, exception_type: str, kind: str) -> None:
    messages = [*text_events("partial", usage=None)[:2], exception(exception_type, "went wrong")]
    answer_with(client, RawStream(messages))
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for item in BedrockProvider(client=client).stream(ask("hi", model=MODEL)):
            seen.append(item)
    assert caught.value.kind == kind
    assert text_of(seen) == "partial"


async def test_closing_early_closes_the_http_stream(client: Any) -> None:
    raw = RawStream(text_events("one", "two", "three"), hang_after=2)  # blocks after the first delta
    answer_with(client, raw)
    stream = BedrockProvider(client=client).stream(ask("hi", model=MODEL))
    assert await anext(stream) == TextDelta("one")
    started = time.monotonic()
    await stream.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1.0
    assert raw.closed.is_set()


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ThrottlingException", 429, "rate_limited"),
        ("ValidationException", 400, "bad_request"),
        ("AccessDeniedException", 403, "auth"),
        ("ResourceNotFoundException", 404, "not_found"),
        ("ModelTimeoutException", 408, "timeout"),
        ("ServiceUnavailableException", 503, "unavailable"),
        ("InternalServerException", 500, "upstream"),
    ],
)
async def test_client_errors_are_mapped(client: Any, code: str, status: int, kind: str) -> None:
    request = ask("hi", model=MODEL)
    with Stubber(client) as stub:
        stub.add_client_error(
            "converse_stream",
            service_error_code=code,
            service_message="no",
            http_status_code=status,
            expected_params=converse_params(request),
        )
        with pytest.raises(ProviderError) as caught:
            await collect(BedrockProvider(client=client).stream(request))
        stub.assert_no_pending_responses()
    assert caught.value.kind == kind
    assert code in caught.value.message


async def test_request_translation_is_what_bedrock_accepts(client: Any) -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    request = ChatRequest(
        model=MODEL,
        system="Be brief.",
        messages=(
            ChatMessage(
                "user",
                (
                    TextBlock("Look:"),
                    MediaBlock("image", "jpg", b"\xff\xd8"),
                    MediaBlock("document", "pdf", b"%PDF", "Q3 report (final).v2.pdf"),
                    MediaBlock("video", "mp4", b"\x00\x00"),
                ),
            ),
            ChatMessage("assistant", (ToolUseBlock("tu_1", "search", {"q": "x"}),)),
            ChatMessage("tool", (ToolResultBlock("tu_1", "found"),)),
        ),
        max_tokens=50,
        top_p=0.5,
        stop=("END",),
        tools=(ToolSpec("search", "Search", schema),),
    )
    expected = {
        "modelId": MODEL,
        "system": [{"text": "Be brief."}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "Look:"},
                    {"image": {"format": "jpeg", "source": {"bytes": b"\xff\xd8"}}},
                    {
                        "document": {
                            "format": "pdf",
                            "name": "Q3 report (final) v2",
                            "source": {"bytes": b"%PDF"},
                        }
                    },
                    {"video": {"format": "mp4", "source": {"bytes": b"\x00\x00"}}},
                ],
            },
            {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tu_1", "name": "search", "input": {"q": "x"}}}],
            },
            {
                "role": "user",
                "content": [{"toolResult": {"toolUseId": "tu_1", "content": [{"text": "found"}]}}],
            },
        ],
        "inferenceConfig": {"maxTokens": 50, "topP": 0.5, "stopSequences": ["END"]},
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": "search", "description": "Search", "inputSchema": {"json": schema}}}
            ]
        },
    }
    assert converse_params(request) == expected
    # The Stubber validates the parameters against Bedrock's service model too.
    with Stubber(client) as stub:
        stub.add_client_error("converse_stream", "ValidationException", expected_params=expected)
        with pytest.raises(ProviderError):
            await collect(BedrockProvider(client=client).stream(request))


def test_document_names_are_made_acceptable() -> None:
    assert document_name("my_file!!.final.pdf", 0) == "my file final"
    assert document_name(None, 2) == "document 3"
    assert document_name("___", 0) == "document 1"


async def test_titan_embeddings(client: Any) -> None:
    def body(vector: list[float], tokens: int) -> dict[str, Any]:
        raw = json.dumps({"embedding": vector, "inputTextTokenCount": tokens}).encode()
        return {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"}

    model = "amazon.titan-embed-text-v2:0"
    with Stubber(client) as stub:
        for text, vector, tokens in (("a", [1.0, 0.0], 3), ("b", [0.0, 1.0], 4)):
            params = {
                "modelId": model,
                "body": json.dumps({"inputText": text, "normalize": True, "dimensions": 256}),
                "contentType": "application/json",
            }
            stub.add_response("invoke_model", body(vector, tokens), params)
        result = await BedrockProvider(client=client).embed(["a", "b"], model=model, dimensions=256)
    assert result.vectors == [[1.0, 0.0], [0.0, 1.0]] and result.input_tokens == 7
    with pytest.raises(ProviderError) as caught:
        await BedrockProvider(client=client).embed(["a"], model=MODEL)
    assert caught.value.kind == "bad_request"


async def test_missing_credentials_are_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    provider = BedrockProvider(region="us-east-1", max_retries=0)
    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(ask("hi", model=MODEL)))
    assert caught.value.kind == "auth"
    await provider.aclose()


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


async def test_structured_output_is_a_forced_tool_whose_input_streams_as_text(client: Any) -> None:
    start = {"start": {"toolUse": {"toolUseId": "tu_9", "name": "json_answer"}}, "contentBlockIndex": 0}
    raw = [
        event("messageStart", {"role": "assistant"}),
        event("contentBlockStart", start),
        event(
            "contentBlockDelta", {"delta": {"toolUse": {"input": '{"name": "Ada",'}}, "contentBlockIndex": 0}
        ),
        event("contentBlockDelta", {"delta": {"toolUse": {"input": ' "age": 36}'}}, "contentBlockIndex": 0}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "tool_use"}),
        event(
            "metadata", {"usage": {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49}, "metrics": {}}
        ),
    ]
    sent: list[Any] = []
    answer_with(client, RawStream(raw), sent)
    request = ask("Who wrote the first program?", model=MODEL, response_format=JsonOutput(PERSON))

    events = await collect(BedrockProvider(client=client).stream(request))

    assert_contract_order(events)
    assert json.loads(text_of(events)) == {"name": "Ada", "age": 36}
    assert not [e for e in events if isinstance(e, ToolCall)]
    assert events[-2:] == [Usage(40, 9), Finish("stop")]
    tool_config = json.loads(sent[0].body)["toolConfig"]
    assert tool_config["toolChoice"] == {"tool": {"name": "json_answer"}}
    assert [t["toolSpec"]["name"] for t in tool_config["tools"]] == ["json_answer"]
    assert tool_config["tools"][0]["toolSpec"]["inputSchema"] == {"json": PERSON}


async def test_structured_output_parameters_are_what_bedrock_accepts(client: Any) -> None:
    tools = (ToolSpec("lookup", "Look a person up", {"type": "object"}),)
    request = ask("Who?", model=MODEL, response_format=JsonOutput(PERSON), tools=tools)
    params = converse_params(request)
    assert params["toolConfig"]["toolChoice"] == {"any": {}}  # the client's tools stay callable
    assert [t["toolSpec"]["name"] for t in params["toolConfig"]["tools"]] == ["lookup", "json_answer"]
    # The Stubber validates the parameters against Bedrock's service model.
    with Stubber(client) as stub:
        stub.add_client_error("converse_stream", "ValidationException", expected_params=params)
        with pytest.raises(ProviderError):
            await collect(BedrockProvider(client=client).stream(request))
        stub.assert_no_pending_responses()


def test_a_schema_that_is_not_an_object_is_refused_clearly() -> None:
    request = ask("List", model=MODEL, response_format=JsonOutput({"type": "array"}))
    with pytest.raises(UnsupportedFeature, match="top level must be an object") as caught:
        converse_params(request)
    assert caught.value.kind == "bad_request"
