"""The OpenAI-compatible provider against a real server (llama-cpp-python's) over HTTP on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from chatkeep.providers.base import ChatMessage, ChatRequest, Finish, ProviderError, TextDelta, Usage
from chatkeep.providers.openai import OpenAICompatProvider
from chatkeep.providers.token_count import count_prompt_tokens, count_tokens
from tests.integration.providers.conftest import SERVED_MODEL


def ask(text: str, max_tokens: int = 16) -> ChatRequest:
    return ChatRequest(
        model=SERVED_MODEL, messages=(ChatMessage.of_text("user", text),), max_tokens=max_tokens
    )


async def test_streams_a_completion_with_counted_usage(llama_server: str) -> None:
    provider = OpenAICompatProvider("llama", base_url=llama_server, tokenizer="cl100k_base")
    request = ask("Write a long story about a dragon who loves tea.")
    try:
        events = [event async for event in provider.stream(request)]
    finally:
        await provider.aclose()

    kinds = [type(e).__name__ for e in events]
    assert kinds[-2:] == ["Usage", "Finish"] and set(kinds[:-2]) == {"TextDelta"}
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.strip()
    # llama.cpp's server ignores stream_options.include_usage, so the provider counted with tiktoken.
    assert events[-2] == Usage(count_prompt_tokens(request, "cl100k_base"), count_tokens(text, "cl100k_base"))
    assert events[-1] == Finish("length")  # 16 tokens cannot hold a long story


async def test_closing_early_releases_the_connection(llama_server: str) -> None:
    provider = OpenAICompatProvider("llama", base_url=llama_server)
    stream = provider.stream(ask("Count from 1 to 300.", max_tokens=600))
    try:
        assert isinstance(await anext(stream), TextDelta)
        started = time.monotonic()
        await stream.aclose()  # type: ignore[attr-defined]
        assert time.monotonic() - started < 1.0
        # The server takes the next request once it notices the disconnect.
        again = [event async for event in provider.stream(ask("Say hi.", max_tokens=4))]
        assert isinstance(again[-1], Finish)
    finally:
        await provider.aclose()


async def test_unknown_route_is_not_found(llama_server: str) -> None:
    provider = OpenAICompatProvider(
        "llama", base_url=llama_server.removesuffix("/v1") + "/nope", max_retries=0
    )
    try:
        with pytest.raises(ProviderError) as caught:
            [event async for event in provider.stream(ask("hi"))]
        assert caught.value.kind == "not_found"
    finally:
        await provider.aclose()
