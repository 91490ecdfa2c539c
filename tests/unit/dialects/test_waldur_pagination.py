"""Waldur list conventions: `o` ordering and LinkHeaderPagination (bare array, X-Result-Count, Link)."""

from __future__ import annotations

import httpx
import pytest

from chatkeep.core.errors import NotFound
from chatkeep.dialects.waldur.pagination import MAX_PAGE_SIZE, page_request
from chatkeep.storage.database import Database
from tests.support import Tenant
from tests.unit.dialects.waldur_world import at, make_thread, token, update_thread

URL = "/api/chat-threads/"
BASE = "http://chatkeep.test/api/chat-threads/"


async def three_threads(db: Database, tenant: Tenant) -> dict[str, str]:
    """a, b, c created in that order, but modified in the order b, c, a."""
    ids = {name: await make_thread(db, tenant.member, texts=()) for name in "abc"}
    for name, created, modified in (("a", 1, 23), ("b", 2, 21), ("c", 3, 22)):
        await update_thread(
            db, ids[name], created_at=at("2026-03-01", created), updated_at=at("2026-03-05", modified)
        )
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([], "cba"),
        ([("o", "-created")], "cba"),
        ([("o", "created")], "abc"),
        ([("o", "modified")], "bca"),
        ([("o", "-modified")], "acb"),
        ([("o", "-created"), ("o", "modified")], "bca"),  # repeated: the last one wins
        ([("o", "-modified,created")], "acb"),
        ([("o", "")], "cba"),
    ],
)
async def test_ordering(
    client: httpx.AsyncClient, db: Database, tenant: Tenant, params: list[tuple[str, str]], expected: str
) -> None:
    ids = await three_threads(db, tenant)
    response = await client.get(URL, params=params, headers=token(tenant.member))
    assert response.status_code == 200
    assert [t["uuid"] for t in response.json()] == [ids[name] for name in expected]


@pytest.mark.parametrize("bad", ["name", "-uuid", "created,bogus", "total_token"])
async def test_unknown_ordering_is_a_400_with_a_field_error(
    client: httpx.AsyncClient, tenant: Tenant, bad: str
) -> None:
    response = await client.get(URL, params={"o": bad}, headers=token(tenant.member))
    assert response.status_code == 400
    (message,) = response.json()["o"]
    assert message.startswith("Select a valid choice.")


async def test_pages_headers_and_links(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> None:
    for _ in range(12):
        await make_thread(db, tenant.member, texts=())
    first = await client.get(URL, headers=token(tenant.member))
    assert len(first.json()) == 10  # the default page size
    assert first.headers["x-result-count"] == "12"
    assert (
        first.headers["link"]
        == f'<{BASE}>; rel="first", <{BASE}?page=2>; rel="next", <{BASE}?page=2>; rel="last"'
    )

    params = {"page": "2", "page_size": "5", "is_archived": "false", "o": "-created"}
    middle = await client.get(URL, params=params, headers=token(tenant.member))
    assert len(middle.json()) == 5
    keep = "is_archived=false&o=-created"
    assert middle.headers["link"] == (
        f'<{BASE}?{keep}&page_size=5>; rel="first", '
        f'<{BASE}?{keep}&page_size=5>; rel="prev", '
        f'<{BASE}?{keep}&page=3&page_size=5>; rel="next", '
        f'<{BASE}?{keep}&page=3&page_size=5>; rel="last"'
    )
    last = await client.get(URL, params={**params, "page": "3"}, headers=token(tenant.member))
    assert len(last.json()) == 2
    assert 'rel="next"' not in last.headers["link"]
    assert f'<{BASE}?{keep}&page=2&page_size=5>; rel="prev"' in last.headers["link"]
    pages = [middle.json(), last.json(), first.json()[:5]]
    assert len({t["uuid"] for page in pages for t in page}) == 12  # no overlap, nothing skipped


async def test_other_params_are_kept_in_links_even_when_repeated(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    for _ in range(2):
        await make_thread(db, tenant.member, texts=())
    response = await client.get(
        URL, params=[("page_size", "1"), ("field", "uuid"), ("field", "name")], headers=token(tenant.member)
    )
    assert f'<{BASE}?field=uuid&field=name&page=2&page_size=1>; rel="next"' in response.headers["link"]


async def test_empty_list_has_one_page(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(URL, headers=token(tenant.member))
    assert response.json() == []
    assert response.headers["x-result-count"] == "0"
    assert response.headers["link"] == f'<{BASE}>; rel="first", <{BASE}?page=1>; rel="last"'


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "1.0"])
async def test_a_page_out_of_range_is_404_invalid_page(
    client: httpx.AsyncClient, tenant: Tenant, page: str
) -> None:
    for url in (URL, "/api/chat-sessions/"):
        response = await client.get(url, params={"page": page}, headers=token(tenant.member))
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(
    ("raw", "size"),
    [(None, 10), ("5", 5), ("0", 10), ("-3", 10), ("x", 10), ("300", 300), ("1000", MAX_PAGE_SIZE)],
)
def test_page_size_defaults_and_cap(raw: str | None, size: int) -> None:
    assert page_request(None, raw).size == size


def test_page_numbers_must_be_positive_integers() -> None:
    assert page_request("3", "10").offset == 20
    with pytest.raises(NotFound, match="Invalid page"):
        page_request("three", None)


async def test_messages_are_not_paginated(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> None:
    await make_thread(db, tenant.member, texts=("a", "b", "c"))
    response = await client.get(
        "/api/chat-messages/", params={"page_size": "1"}, headers=token(tenant.member)
    )
    assert len(response.json()) == 3
    assert "x-result-count" not in response.headers and "link" not in response.headers
