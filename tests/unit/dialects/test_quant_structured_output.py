"""Quant `responseFormat`: a model that can honour it answers JSON; one that cannot answers 400."""

from __future__ import annotations

import json

import httpx
import jsonschema_rs

from tests.fakes import ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import chat

POINT = {
    "type": "object",
    "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
    "required": ["x", "y"],
    "additionalProperties": False,
}


async def test_a_model_without_structured_output_answers_400(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    for path in ("/chat", "/chat/stream"):
        response = await chat(
            scripted_client, tenant, path, responseFormat={"type": "json", "jsonSchema": POINT}
        )
        assert response.status_code == 400, response.text
        assert "JSON format" in response.text
    assert scripted.requests == []  # refused before any model call


async def test_the_embedded_model_answers_json_matching_the_schema(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await chat(
        client,
        tenant,
        modelId="smollm2-135m-instruct",
        maxTokens=48,
        temperature=0,
        messages=[{"role": "user", "content": "Give me a point on a grid."}],
        responseFormat={"type": "json", "jsonSchema": POINT},
    )
    assert response.status_code == 200, response.text
    jsonschema_rs.validate(POINT, json.loads(response.json()["response"]["content"]))
