"""Reading a chat-completions event stream into plain chunks, as the openai SDK's AsyncStream reads it."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from chatkeep.providers.base import ProviderError
from chatkeep.providers.openai.sse import read_chunks


def response(body: bytes) -> httpx2.Response:
    return httpx2.Response(200, content=body, request=httpx2.Request("POST", "http://llm.test/v1/x"))


async def chunks(body: bytes) -> list[dict[str, Any]]:
    return await flat(read_chunks(response(body)))


async def flat(batches: AsyncIterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [chunk async for batch in batches for chunk in batch]


async def test_events_in_any_line_ending_with_comments_and_multi_line_data() -> None:
    body = (
        b": keep-alive\r\n\r\n"
        b'data: {"n": 1}\r\n\r\n'
        b'event: chunk\nid: 7\ndata:{"n":\ndata: 2}\n\n'
        b'data: {"n": 3}\r\r'
        b"data: [DONE]\n\n"
        b'data: {"n": "after done is ignored"}\n\n'
    )
    assert await chunks(body) == [{"n": 1}, {"n": 2}, {"n": 3}]


async def test_an_error_chunk_is_an_upstream_error() -> None:
    with pytest.raises(ProviderError, match="model crashed") as caught:
        await chunks(b'data: {"error": {"message": "model crashed"}}\n\n')
    assert caught.value.kind == "upstream"
    with pytest.raises(ProviderError, match="An error occurred during streaming"):
        await chunks(b'data: {"error": "opaque"}\n\n')


@pytest.mark.parametrize("body", [b"data: {not json\n\n", b"data: [1, 2]\n\n"])
async def test_malformed_payloads_are_upstream_errors(body: bytes) -> None:
    with pytest.raises(ProviderError, match="malformed stream") as caught:
        await chunks(body)
    assert caught.value.kind == "upstream"


async def test_a_connection_cut_mid_stream_is_unavailable() -> None:
    async def cut() -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\n'
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")

    streamed = httpx2.Response(200, content=cut(), request=httpx2.Request("POST", "http://llm.test/v1/x"))
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for batch in read_chunks(streamed):
            seen.extend(batch)
    assert seen == [{"n": 1}] and caught.value.kind == "unavailable"


async def test_lines_split_across_network_reads_at_any_byte() -> None:
    body = b'data: {"n": 1}\r\n\r\ndata: {"n": 2}\r\rdata: {"n": 3}\n\ndata: [DONE]\r\n\r\n'

    async def pieces(size: int) -> AsyncIterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start : start + size]

    for size in (1, 2, 3, 7, len(body)):
        streamed = httpx2.Response(
            200, content=pieces(size), request=httpx2.Request("POST", "http://llm.test/v1/x")
        )
        assert await flat(read_chunks(streamed)) == [{"n": 1}, {"n": 2}, {"n": 3}], size


async def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert await chunks(b'data: {"t": "a\xffb"}\n\n') == [{"t": "a\ufffdb"}]


async def test_a_compressed_stream_is_decoded() -> None:
    body = gzip.compress(b'data: {"n": 1}\n\ndata: [DONE]\n\n')

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 5):
            yield body[start : start + 5]

    streamed = httpx2.Response(
        200,
        content=pieces(),
        headers={"content-encoding": "gzip"},
        request=httpx2.Request("POST", "http://llm.test/v1/x"),
    )
    assert await flat(read_chunks(streamed)) == [{"n": 1}]


async def test_chunks_that_arrive_together_come_as_one_batch() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\n'  # three HTTP chunks, already received: one batch
        yield b'data: {"n": 2}\n\ndata: {"n'
        yield b'": 3}\n\n'
        await asyncio.sleep(0.01)  # the next arrives later: a batch of its own
        yield b'data: {"n": 4}\n\n'
        yield b"data: [DONE]\n\n"

    streamed = httpx2.Response(200, content=pieces(), request=httpx2.Request("POST", "http://llm.test/v1/x"))
    assert [b async for b in read_chunks(streamed)] == [[{"n": 1}, {"n": 2}, {"n": 3}], [{"n": 4}]]


async def test_a_failure_comes_after_the_chunks_read_with_it() -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(ProviderError, match="malformed stream"):
        async for batch in read_chunks(response(b'data: {"n": 1}\n\ndata: {"n": 2}\n\ndata: {oops\n\n')):
            seen.extend(batch)
    assert seen == [{"n": 1}, {"n": 2}]


async def test_without_gathering_each_piece_read_is_a_batch() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b'data: {"n": 1}\n\ndata: {"n": 2}\n\n'
        yield b'data: {"n": 3}\n\n'
        yield b"data: [DONE]\n\n"

    streamed = httpx2.Response(200, content=pieces(), request=httpx2.Request("POST", "http://llm.test/v1/x"))
    batches = [b async for b in read_chunks(streamed, gather=False)]
    assert batches == [[{"n": 1}, {"n": 2}], [{"n": 3}]]
