"""Large JSON bodies are parsed and checked in a worker process, never on the event loop (see
dialects.json_body).

The event loop here is the test's own thread (the app runs in-process), so a profile hook on this thread
sees every JSON document the standard decoder parses on it, and every storable-value check. The control
case shows the hook does see a plain FastAPI route parse its body there.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from chatkeep.app import create_app
from chatkeep.core.workers import INLINE_BODY_BYTES
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.storable_values import first_problem
from chatkeep.settings import Settings
from tests.support import Tenant

LARGE_TEXT = "x" * (INLINE_BODY_BYTES + 1000)


@contextlib.contextmanager
def decoded_on_this_thread() -> Iterator[list[int]]:
    """Lengths of the JSON documents the standard library decodes on this thread meanwhile (-1 for each
    storable-value check of a parsed body, which walks all of it)."""
    lengths: list[int] = []
    decode = json.JSONDecoder.decode.__code__
    check = first_problem.__code__
    previous = sys.getprofile()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is decode:
            lengths.append(len(frame.f_locals["s"]))
        elif event == "call" and frame.f_code is check:
            lengths.append(-1)

    sys.setprofile(profile)
    try:
        yield lengths
    finally:
        sys.setprofile(previous)


class Note(BaseModel):
    text: str


async def test_control_a_plain_route_parses_its_body_on_the_event_loop() -> None:
    app = FastAPI()

    @app.post("/notes")
    async def add(note: Note) -> int:
        return len(note.text)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        with decoded_on_this_thread() as lengths:
            response = await client.post("/notes", json={"text": LARGE_TEXT})
    assert response.json() == len(LARGE_TEXT)
    assert max(lengths) > INLINE_BODY_BYTES


async def test_a_large_body_is_parsed_off_the_event_loop(client: httpx.AsyncClient, tenant: Tenant) -> None:
    base = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    headers = {"Authorization": f"Bearer {tenant.service}"}
    body = {"userId": "u", "initialMessages": [{"role": "user", "content": LARGE_TEXT}]}
    with decoded_on_this_thread() as lengths:
        response = await client.post(base, json=body, headers=headers)
    assert response.status_code == 201, response.text[:300]
    assert -1 not in lengths  # no check of the body here
    assert max(lengths, default=0) <= INLINE_BODY_BYTES  # small JSON columns are read here
    stored = await client.get(f"{base}/{response.json()['sessionId']}", headers=headers)
    assert [m["content"] for m in stored.json()["messages"]] == [LARGE_TEXT]


async def test_bad_json_gets_the_same_answer_large_or_small(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    url = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    headers = {"Authorization": f"Bearer {tenant.service}", "Content-Type": "application/json"}
    answers = []
    for text in ("short", LARGE_TEXT):
        response = await client.post(url, content=f'{{"userId": "{text}", oops}}', headers=headers)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400, answers[0]


async def test_an_unstorable_value_gets_the_same_answer_large_or_small(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    url = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    headers = {"Authorization": f"Bearer {tenant.service}"}
    answers = []
    for text in ("short", LARGE_TEXT):
        messages = [{"role": "user", "content": text}, {"role": "user", "content": "nul \u0000 here"}]
        response = await client.post(url, json={"userId": "u", "initialMessages": messages}, headers=headers)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and answers[0][1]["field"] == "initialMessages.1.content", answers[0]


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's record of an included router
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_route_that_takes_a_body_parses_it_off_the_loop(settings: Settings) -> None:
    app = create_app(settings)
    with_body = [r for r in _api_routes(app.routes) if r.methods & {"POST", "PUT", "PATCH"}]
    assert len(with_body) > 30  # the walk found the dialects' routes
    plain = {f"{sorted(r.methods)} {r.path}" for r in with_body if not isinstance(r, OffLoopJSONRoute)}
    assert not plain, f"use route_class=OffLoopJSONRoute on these routes' router: {plain}"
