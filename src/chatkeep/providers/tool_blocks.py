"""Tool-use blocks whose JSON input streams in pieces, as Anthropic's and Bedrock's streams send them.

A block opens with the call's id and name, gets its input as JSON text in pieces, and becomes one
`ToolCall` when it stops. Both providers key the open blocks by content-block index.
"""

from __future__ import annotations

import json

from chatkeep.providers.base import ProviderError, ToolCall


class ToolBlocks:
    """The open tool-use blocks of one stream, by content-block index."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[str, str, list[str]]] = {}

    def __contains__(self, index: int) -> bool:
        return index in self._open

    def start(self, index: int, call_id: str, name: str) -> None:
        self._open[index] = (call_id, name, [])

    def add(self, index: int, piece: str) -> None:
        """Append a piece of the input; the caller checks `index in blocks` first."""
        self._open[index][2].append(piece)

    def stop(self, index: int) -> ToolCall | None:
        """The finished call, or None where the block at `index` is not a tool-use block."""
        if index not in self._open:
            return None
        call_id, name, pieces = self._open.pop(index)
        try:
            arguments = json.loads("".join(pieces) or "{}")
        except json.JSONDecodeError:
            raise ProviderError("upstream", f"tool call {name!r} has invalid JSON input") from None
        return ToolCall(id=call_id, name=name, input=arguments)
