"""Tool-use input that streams in pieces becomes one call when its block stops."""

from __future__ import annotations

import pytest

from chatkeep.providers.base import ProviderError, ToolCall
from chatkeep.providers.tool_blocks import ToolBlocks


def test_pieces_join_into_one_call_and_other_blocks_are_ignored() -> None:
    blocks = ToolBlocks()
    blocks.start(1, "call-1", "lookup")
    for piece in ('{"city"', ': "Oslo', '"}'):
        blocks.add(1, piece)
    assert 0 not in blocks and 1 in blocks
    assert blocks.stop(0) is None  # a text block stopping
    assert blocks.stop(1) == ToolCall(id="call-1", name="lookup", input={"city": "Oslo"})
    assert 1 not in blocks


def test_no_input_is_an_empty_object_and_bad_json_is_an_upstream_error() -> None:
    blocks = ToolBlocks()
    blocks.start(0, "c0", "ping")
    assert blocks.stop(0) == ToolCall(id="c0", name="ping", input={})
    blocks.start(2, "c2", "broken")
    blocks.add(2, '{"half":')
    with pytest.raises(ProviderError, match="tool call 'broken' has invalid JSON input") as caught:
        blocks.stop(2)
    assert caught.value.kind == "upstream" and 2 not in blocks
