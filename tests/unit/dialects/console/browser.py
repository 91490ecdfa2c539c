"""A cookie-keeping HTTP client that uses the console as a browser does: forms with their keys, streams."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import FastAPI

ORIGIN = "http://chatkeep.test"
_SIGN_IN_KEY = re.compile(r'name="sign_in_key" value="([^"]+)"')
_FORM_KEY = re.compile(r'<meta name="form-key" content="([^"]+)">')


class ConsoleBrowser:
    def __init__(self, app: FastAPI) -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ORIGIN, follow_redirects=False, timeout=30
        )
        self.form_key = ""

    async def aclose(self) -> None:
        await self.http.aclose()

    async def sign_in(self, secret: str) -> httpx.Response:
        page = await self.http.get("/console/sign-in")
        match = _SIGN_IN_KEY.search(page.text)
        assert match, page.text
        response = await self.http.post(
            "/console/sign-in",
            data={"token": secret, "sign_in_key": match.group(1)},
            headers={"Origin": ORIGIN},
        )
        if response.status_code == 303:
            await self.refresh_form_key()
        return response

    async def refresh_form_key(self) -> None:
        home = await self.http.get("/console/")
        match = _FORM_KEY.search(home.text)
        assert match, f"not signed in: {home.status_code} {home.headers.get('location')}"
        self.form_key = match.group(1)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def submit(
        self, path: str, data: dict[str, Any] | None = None, *, form_key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST a form as the page would, with the session's form key unless another is given."""
        fields = {"form_key": self.form_key if form_key is None else form_key, **(data or {})}
        return await self.http.post(path, data=fields, headers={"Origin": ORIGIN}, **kwargs)

    async def turn(
        self, body: dict[str, Any], *, form_key: str | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Run a chat turn; (status, NDJSON records) or (status, [error body])."""
        response = await self.http.post(
            "/console/turns",
            json=body,
            headers={"X-Form-Key": self.form_key if form_key is None else form_key, "Origin": ORIGIN},
        )
        if response.headers.get("content-type", "").startswith("application/x-ndjson"):
            return response.status_code, [json.loads(line) for line in response.text.splitlines() if line]
        try:
            return response.status_code, [response.json()]
        except ValueError:
            return response.status_code, [{"body": response.text}]

    async def chat(self, text: str, **extra: Any) -> str:
        """Start a conversation with `text`; its id."""
        status, records = await self.turn({"text": text, "model": "scripted-text", **extra})
        assert status == 200, records
        assert records[-1] == {"t": "done", "stopped": False}, records
        return str(records[0]["conversation"])
