"""The worker pools: small inputs stay inline, large ones go to another process, errors come back whole."""

from __future__ import annotations

import json
import os

import pytest

from chatkeep.core import workers


async def test_a_large_body_is_parsed_in_another_process() -> None:
    large = workers.INLINE_BODY_BYTES + 1
    assert await workers.run_parse(large, os.getpid) != os.getpid()
    assert await workers.run_parse(workers.INLINE_BODY_BYTES, os.getpid) == os.getpid()


async def test_parse_errors_arrive_as_the_parser_raised_them() -> None:
    # FastAPI turns a JSONDecodeError into its 422/400 by the error's position: it must survive the hop.
    body = b'{"text": "' + b"a" * workers.INLINE_BODY_BYTES + b'", oops}'
    with pytest.raises(json.JSONDecodeError) as inline:
        json.loads(body)
    with pytest.raises(json.JSONDecodeError) as raised:
        await workers.run_parse(len(body), json.loads, body)
    assert (raised.value.msg, raised.value.pos) == (inline.value.msg, len(body) - 5)


async def test_worker_processes_yield_the_cpu_to_the_server() -> None:
    here = os.nice(0)
    there = await workers.run_parse(workers.INLINE_BODY_BYTES + 1, os.nice, 0)
    assert there == min(19, here + workers.WORKER_NICENESS)
