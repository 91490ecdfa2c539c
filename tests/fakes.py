"""A scripted provider for core tests: deterministic deltas, injected faults, observable cancellation.

It implements the real Provider contract; integration tests use real models instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from chatkeep.providers.base import (
    ChatRequest,
    EmbeddingResult,
    Finish,
    FinishReason,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ToolCall,
    Usage,
)


@dataclass
class Script:
    deltas: list[str] = field(default_factory=lambda: ["Hello", ", ", "world."])
    delay: float = 0.0
    first_delay: float = 0.0
    fail_after: int | None = None
    error: ProviderError = field(default_factory=lambda: ProviderError("upstream", "upstream exploded"))
    usage: Usage | None = field(default_factory=lambda: Usage(11, 3))
    finish: FinishReason = "stop"
    tool_calls: list[ToolCall] = field(default_factory=list)


class ScriptedProvider:
    """Replays `script`; records every request and whether the stream ended early."""

    name = "scripted"

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.requests: list[ChatRequest] = []
        self.interrupted = asyncio.Event()
        self.finished = asyncio.Event()

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        script = self.script
        completed = False
        try:
            if script.first_delay:
                await asyncio.sleep(script.first_delay)
            for index, delta in enumerate(script.deltas):
                if script.fail_after is not None and index >= script.fail_after:
                    raise script.error
                if script.delay and index:
                    await asyncio.sleep(script.delay)
                yield TextDelta(delta)
            if script.fail_after is not None and script.fail_after >= len(script.deltas):
                raise script.error
            for call in script.tool_calls:
                yield call
            if script.usage is not None:
                yield script.usage
            yield Finish(script.finish)
            completed = True
        finally:
            if completed:
                self.finished.set()
            else:
                self.interrupted.set()

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        size = dimensions or 8
        return EmbeddingResult(
            vectors=[[float(len(t) % 7)] * size for t in texts], input_tokens=sum(map(len, texts))
        )

    async def aclose(self) -> None:
        return None
