"""A lean HTTP client for OpenAI-compatible servers: one connection pool, the SDK's retry rules, no SDK.

The `openai` SDK costs a streamed turn about as much CPU as the rest of the upstream call: it builds
request options, headers and a retry loop through generic machinery on every call. The wire protocol
is small, so this client speaks it directly with httpx2 (the SDK's own transport, so the same pool
behaviour and the same test tooling): a JSON POST with a bearer key, and on success the unread response
(streams) or its JSON body.

Retries follow the SDK's rules so upstreams see the same traffic as before: connection failures,
timeouts, 408, 409, 429 and 5xx are retried up to `max_retries` times, only before any byte of an
answer was read; the wait is `Retry-After`/`retry-after-ms` when the server gives one (up to 60 s), else
0.5 s doubling up to 8 s, less up to 25 % jitter; `x-should-retry` overrides the status. Each attempt
carries `x-stainless-retry-count`, the header the SDK sends, which servers and chatkeep's mock upstream log.
Failures come out as ProviderError kinds (see http_status).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

import httpx2
import orjson

from chatkeep.providers.base import ProviderError
from chatkeep.providers.http_status import kind_for_status, retry_after_seconds

OPENAI_BASE_URL = "https://api.openai.com/v1"
TIMEOUT_ERRORS = (httpx2.TimeoutException,)
TRANSPORT_ERRORS = (httpx2.TransportError,)
_RETRY_STATUSES = frozenset({408, 409, 429})
_INITIAL_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
_MAX_RETRY_AFTER = 60.0
# Enough for every stream one process holds at once; the pool keeps idle connections for reuse.
_POOL = httpx2.Limits(max_connections=2048, max_keepalive_connections=256, keepalive_expiry=30)


class OpenAIClient:
    """POSTs JSON to one OpenAI-compatible server through one shared connection pool."""

    def __init__(
        self,
        base_url: str | None,
        *,
        api_key: str | None,
        timeout: float,
        max_retries: int = 2,
        headers: Mapping[str, str] | None = None,
        http: httpx2.AsyncClient | None = None,
    ) -> None:
        self._base = (base_url or OPENAI_BASE_URL).rstrip("/")
        self._max_retries = max_retries
        self._headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._headers.update(headers or {})
        self._urls: dict[str, httpx2.URL] = {}
        self._http = http or httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), limits=_POOL)

    async def stream(self, path: str, body: dict[str, Any]) -> httpx2.Response:
        """The unread 2xx response to a POST; the caller reads it and must `aclose()` it."""
        return await self._send(path, orjson.dumps(body), stream=True)

    async def json(self, path: str, body: dict[str, Any]) -> Any:
        """The decoded JSON answer to a POST."""
        response = await self._send(path, orjson.dumps(body), stream=False)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ProviderError("upstream", f"the model server answered {path} with invalid JSON") from exc

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def _url(self, path: str) -> httpx2.URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx2.URL(self._base + path)  # parsed once, not per call
        return url

    async def _send(self, path: str, content: bytes, *, stream: bool) -> httpx2.Response:
        url = self._url(path)
        attempt = 0
        while True:
            headers = {**self._headers, "x-stainless-retry-count": str(attempt)}
            request = self._http.build_request("POST", url, content=content, headers=headers)
            retry_after: float | None = None
            try:
                response = await self._http.send(request, stream=stream)
            except TIMEOUT_ERRORS as exc:
                failure = ProviderError("timeout", "the model server did not answer in time")
                cause: Exception = exc
            except TRANSPORT_ERRORS as exc:
                failure = ProviderError("unavailable", f"cannot reach the model server: {_describe(exc)}")
                cause = exc
            else:
                if response.is_success:
                    return response
                failure = await _status_error(response)
                cause = failure
                retry_after = retry_after_seconds(response.headers)  # a 503 may say when to come back too
                if not _should_retry(response):
                    raise failure
            if attempt >= self._max_retries:
                raise failure from (None if cause is failure else cause)
            await asyncio.sleep(_backoff(attempt, retry_after))
            attempt += 1


def _should_retry(response: httpx2.Response) -> bool:
    verdict = response.headers.get("x-should-retry")
    if verdict in ("true", "false"):
        return verdict == "true"
    return response.status_code in _RETRY_STATUSES or response.status_code >= 500


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the server's hint when sane, else jittered exponential backoff."""
    if retry_after is not None and 0 < retry_after <= _MAX_RETRY_AFTER:
        return retry_after
    delay = min(_INITIAL_BACKOFF * 2.0**attempt, _MAX_BACKOFF)
    return delay * (1 - 0.25 * random.random())


async def _status_error(response: httpx2.Response) -> ProviderError:
    """A non-2xx answer as a ProviderError, its message from the body's `error.message` when there is one."""
    try:
        await response.aread()
    except (*TIMEOUT_ERRORS, *TRANSPORT_ERRORS):
        pass  # the status says enough
    finally:
        await response.aclose()
    status = response.status_code
    kind = kind_for_status(status)
    retry_after = retry_after_seconds(response.headers) if kind == "rate_limited" else None
    return ProviderError(
        kind, f"model server answered {status}: {_error_message(response)}", retry_after=retry_after
    )


def _error_message(response: httpx2.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except (orjson.JSONDecodeError, httpx2.ResponseNotRead):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else (error or body.get("message"))
        if isinstance(message, str) and message:
            return message
    text = response.text.strip() if response.content else ""
    return text[:500] or response.reason_phrase or "no details"


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
