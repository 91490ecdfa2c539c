"""A response as the SDK's stream of events (`responses.create(stream=True)`, `responses.stream()`).

    response.created, response.in_progress,
    per text:  response.output_item.added, response.content_part.added, response.output_text.delta*,
               response.output_text.done, response.content_part.done, response.output_item.done
    (a refusal: response.refusal.delta / response.refusal.done instead of the output_text events)
    per call:  response.output_item.added, response.function_call_arguments.delta / .done,
               response.output_item.done
    then response.completed | response.incomplete | response.failed

Every event carries `sequence_number`; indexes are those of the snapshot the SDK builds from them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from sse_starlette import ServerSentEvent

from chatkeep.core.turns import Turn, TurnDone, TurnFailed
from chatkeep.dialects.openai.response_objects import (
    Outcome,
    call_item,
    message_item,
    output_text_part,
)
from chatkeep.providers.base import TextDelta, ToolCall

Render = Callable[[Outcome], dict[str, Any]]


class _Writer:
    def __init__(self) -> None:
        self.sequence = 0

    def event(self, kind: str, **data: Any) -> ServerSentEvent:
        payload = {"type": kind, "sequence_number": self.sequence, **data}
        self.sequence += 1
        return ServerSentEvent(data=orjson.dumps(payload).decode(), event=kind)


async def events(
    turn: Turn, outcome: Outcome, message_id: str, render: Render, finish: Callable[[Outcome, Any], None]
) -> AsyncIterator[ServerSentEvent]:
    """The SSE events of one response; `finish` fills the outcome from the turn's last event."""
    out = _Writer()
    yield out.event("response.created", response=render(outcome))
    yield out.event("response.in_progress", response=render(outcome))
    index = 0  # the output index of the next item
    text_open = False
    part_kind = "refusal" if turn.blocked else "output_text"

    def close_text() -> list[ServerSentEvent]:
        nonlocal index, text_open
        text_open = False
        item = message_item(message_id, outcome, "completed")
        part = item["content"][0]
        where = {"item_id": message_id, "output_index": index, "content_index": 0}
        done = (
            out.event("response.refusal.done", **where, refusal=outcome.text)
            if turn.blocked
            else out.event("response.output_text.done", **where, text=outcome.text, logprobs=[])
        )
        closing = [
            done,
            out.event("response.content_part.done", **where, part=part),
            out.event("response.output_item.done", output_index=index, item=item),
        ]
        index += 1
        return closing

    async for event in turn.events():
        if isinstance(event, TextDelta):
            if not text_open:
                text_open = True
                empty = Outcome(refused=turn.blocked)
                yield out.event(
                    "response.output_item.added",
                    output_index=index,
                    item={**message_item(message_id, empty, "in_progress"), "content": []},
                )
                part = {"type": "refusal", "refusal": ""} if turn.blocked else output_text_part("")
                yield out.event(
                    "response.content_part.added",
                    item_id=message_id,
                    output_index=index,
                    content_index=0,
                    part=part,
                )
            outcome.text += event.text
            kind = "response.refusal.delta" if part_kind == "refusal" else "response.output_text.delta"
            extra: dict[str, Any] = {} if part_kind == "refusal" else {"logprobs": []}
            yield out.event(
                kind, item_id=message_id, output_index=index, content_index=0, delta=event.text, **extra
            )
        elif isinstance(event, ToolCall):
            if text_open:
                for closing in close_text():
                    yield closing
            outcome.calls.append(event)
            item = call_item(event)
            arguments = json.dumps(event.input)
            yield out.event(
                "response.output_item.added",
                output_index=index,
                item={**call_item(event, "in_progress"), "arguments": ""},
            )
            yield out.event(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=index,
                delta=arguments,
            )
            yield out.event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=event.name,
                arguments=arguments,
            )
            yield out.event("response.output_item.done", output_index=index, item=item)
            index += 1
        elif isinstance(event, TurnDone | TurnFailed):
            if text_open:
                for closing in close_text():
                    yield closing
            finish(outcome, event)
            if outcome.status == "failed":
                yield out.event("response.failed", response=render(outcome))
            elif outcome.status in ("incomplete", "cancelled"):
                yield out.event("response.incomplete", response=render(outcome))
            else:
                yield out.event("response.completed", response=render(outcome))
