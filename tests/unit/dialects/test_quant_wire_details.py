"""Quant wire details on both families: LF-terminated SSE lines and 25 MB of decoded media."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.fakes import ScriptedProvider
from tests.support import Tenant

FAMILIES = ("/api/v3/organizations/{org}/ai", "/organisations/{org}/ai")


@pytest.mark.parametrize("family", FAMILIES)
async def test_sse_lines_end_with_lf_only(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, family: str
) -> None:
    response = await scripted_client.post(
        family.format(org=tenant.name) + "/chat/stream",
        json={"messages": [{"role": "user", "content": "Hi"}]},
        headers={"Authorization": f"Bearer {tenant.member}"},
    )
    assert response.status_code == 200
    assert b"\r" not in response.content
    lines = response.content.decode().split("\n")
    assert "event: content" in lines and "event: done" in lines


async def test_25_mib_of_decoded_media_is_accepted(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(25 * 1024 * 1024 - 8)  # exactly the documented 25 MiB
    body = {
        "modelId": "scripted-vision",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "What is in this picture?"},
                    {"image": {"format": "png", "source": {"bytes": base64.b64encode(image).decode()}}},
                ],
            }
        ],
    }
    response = await scripted_client.post(
        f"/api/v3/organizations/{tenant.name}/ai/chat",
        json=body,
        headers={"Authorization": f"Bearer {tenant.member}"},
    )
    assert response.status_code == 200, response.text[:300]
    (sent,) = scripted.requests[-1].messages
    assert len(sent.content[-1].data) == len(image)  # type: ignore[union-attr]
