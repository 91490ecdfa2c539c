"""Bodies over the limit get 413 JSON from a real `chatkeep serve` over a socket, before being read whole.

Three clients: one that declares the size and waits for `100 Continue` (it must get the 413 without
sending a byte of the body), httpx sending a declared 35 MiB body, and httpx streaming one with chunked
transfer encoding (no Content-Length), on a Quant and on a Waldur route. The server stays up.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.support import LiveServer, Tenant

LIMIT = 36_001_112  # CHATKEEP_MAX_BODY_BYTES' default: 25 MiB of media in base64, plus 1 MiB
OVER = 35 * 1024 * 1024
PIECE = b"a" * 65_536


def routes(tenant: Tenant) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "quant": (
            f"/api/v3/organizations/{tenant.name}/ai/sessions",
            {"Authorization": f"Bearer {tenant.admin}"},
        ),
        "waldur": ("/api/chat/stream/", {"Authorization": f"Token {tenant.admin}"}),
    }


def padded_json(size: int) -> Iterator[bytes]:
    """A JSON object of `size` bytes, in 64 KB pieces, as a client streams it."""
    yield b'{"userId": "u", "input": "'
    sent = 26
    while sent < size - 2:
        piece = PIECE[: min(len(PIECE), size - 2 - sent)]
        sent += len(piece)
        yield piece
    yield b'"}'


def assert_too_large(response: httpx.Response, *, waldur: bool) -> None:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert str(LIMIT) in (body["detail"] if waldur else body["message"])
    assert waldur or body["error"] == "payload_too_large"


@pytest.mark.parametrize("dialect", ["quant", "waldur"])
def test_declared_size_is_refused_before_the_body_is_sent(
    live_server: LiveServer, tenant: Tenant, dialect: str
) -> None:
    path, auth = routes(tenant)[dialect]
    head = "".join(
        [
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            *(f"{name}: {value}\r\n" for name, value in auth.items()),
            f"Content-Type: application/json\r\nContent-Length: {OVER}\r\nExpect: 100-continue\r\n\r\n",
        ]
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=30) as conn:
        conn.sendall(head.encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = conn.recv(65_536)
            if not chunk:
                break
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), reply[:300]  # not "100 Continue": no body was read
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in headers.lower()
    assert str(LIMIT).encode() in body


@pytest.mark.parametrize("dialect", ["quant", "waldur"])
def test_declared_oversized_body_gets_413(live_server: LiveServer, tenant: Tenant, dialect: str) -> None:
    path, auth = routes(tenant)[dialect]
    body = b"".join(padded_json(OVER))
    response = httpx.post(
        live_server.url + path, content=body, headers={**auth, "Content-Type": "application/json"}, timeout=60
    )
    assert_too_large(response, waldur=dialect == "waldur")
    assert httpx.get(f"{live_server.url}/readyz", timeout=10).status_code == 200


@pytest.mark.parametrize("dialect", ["quant", "waldur"])
def test_chunked_oversized_body_gets_413(live_server: LiveServer, tenant: Tenant, dialect: str) -> None:
    path, auth = routes(tenant)[dialect]
    with httpx.Client(timeout=60) as client:
        response = client.post(
            live_server.url + path,
            content=padded_json(OVER),  # a generator: httpx sends it chunked, without Content-Length
            headers={**auth, "Content-Type": "application/json"},
        )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_too_large(response, waldur=dialect == "waldur")
    assert httpx.get(f"{live_server.url}/readyz", timeout=10).status_code == 200


def test_body_just_under_the_limit_is_parsed(live_server: LiveServer, tenant: Tenant) -> None:
    """The limit is exact: a body 1 KB under it is read and served (its big unknown field is ignored)."""
    path, auth = routes(tenant)["quant"]
    with httpx.Client(timeout=60) as client:
        response = client.post(
            live_server.url + path,
            content=padded_json(LIMIT - 1024),
            headers={**auth, "Content-Type": "application/json"},
        )
    assert response.status_code == 201, response.text[:300]
