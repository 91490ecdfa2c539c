"""Waldur's LinkHeaderPagination: a bare JSON array, `X-Result-Count`, and first/prev/next/last links."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from chatkeep.core.errors import NotFound

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
# No list has this many pages; a larger number would overflow the database's OFFSET (a 500, not a 404).
MAX_PAGE = 1_000_000_000
INVALID_PAGE = "Invalid page."


@dataclass(frozen=True, slots=True)
class PageRequest:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_request(page: str | None, page_size: str | None) -> PageRequest:
    """Parse `page` (1-based; anything else is 404) and `page_size` (bad → default, big → capped)."""
    try:
        size = int(page_size) if page_size else DEFAULT_PAGE_SIZE
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    if page is None or page == "":
        return PageRequest(1, size)
    try:
        number = int(page)
    except ValueError:
        raise NotFound(INVALID_PAGE) from None
    if not 1 <= number <= MAX_PAGE:
        raise NotFound(INVALID_PAGE)
    return PageRequest(number, size)


def paginated(request: Request, items: list[Any], *, total: int, page: PageRequest) -> JSONResponse:
    """The page as Waldur sends it; a page past the last one (the first always exists) is a 404."""
    last = max(1, math.ceil(total / page.size))
    if page.number > last:
        raise NotFound(INVALID_PAGE)
    links = {"first": _link(request, None), "last": _link(request, last)}
    if page.number > 1:
        links["prev"] = _link(request, page.number - 1 if page.number > 2 else None)
    if page.number < last:
        links["next"] = _link(request, page.number + 1)
    order = ("first", "prev", "next", "last")
    header = ", ".join(f'<{links[rel]}>; rel="{rel}"' for rel in order if rel in links)
    return JSONResponse(items, headers={"X-Result-Count": str(total), "Link": header})


def _link(request: Request, number: int | None) -> str:
    """The request's absolute URL with `page` set (or removed), other params kept, sorted as DRF does."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    if number is None:
        params.pop("page", None)
    else:
        params["page"] = [str(number)]
    return str(request.url.replace(query=urlencode(sorted(params.items()), doseq=True)))
