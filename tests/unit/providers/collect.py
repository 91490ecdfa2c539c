"""Helpers for reading a provider stream in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from chatkeep.providers.base import ChatMessage, ChatRequest, ProviderEvent, TextDelta


def ask(text: str, *, model: str = "m", max_tokens: int = 16, **options: Any) -> ChatRequest:
    """A one-message request."""
    return ChatRequest(
        model=model, messages=(ChatMessage.of_text("user", text),), max_tokens=max_tokens, **options
    )


async def collect(events: AsyncIterator[ProviderEvent]) -> list[ProviderEvent]:
    return [event async for event in events]


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def assert_contract_order(events: list[ProviderEvent]) -> None:
    """(TextDelta | ToolCall)* Usage Finish: exactly one Usage, Finish last."""
    kinds = [type(e).__name__ for e in events]
    assert kinds[-2:] == ["Usage", "Finish"], kinds
    assert kinds.count("Usage") == 1 and kinds.count("Finish") == 1, kinds
    assert set(kinds[:-2]) <= {"TextDelta", "ToolCall"}, kinds
