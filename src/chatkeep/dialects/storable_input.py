"""Refuses request values chatkeep cannot store or render: NUL, lone surrogates, NaN/Infinity, deep nesting.

PostgreSQL rejects U+0000 in text; a lone surrogate (JSON "\\ud800") cannot be encoded as UTF-8 for
either database or for the response; NaN and Infinity (which Python's JSON parser accepts, and which
"1e400" becomes) are not JSON at all; and JSON nested deeper than the serialisers go cannot be rendered
back. Checked once for the whole request, before any model or database sees it, so both backends answer
the same clear 400 instead of failing half-way through a write. Rejected, not stripped: silently changing
what a client stored would be worse than telling it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from chatkeep.core.errors import InvalidInput
from chatkeep.dialects.json_body import OffLoopJSONRequest
from chatkeep.dialects.storable_values import first_problem, text_problem

_JSON_TYPES = ("application/json",)


async def require_storable_input(request: Request) -> None:
    """FastAPI dependency: 400 naming the parameter or body field that holds an unstorable value."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, raw in params:
        problem = text_problem(str(raw))
        if problem:
            raise InvalidInput(f"{name} {problem}", field=name)
    body = await _json_body(request)
    if body is None:
        found = None
    elif isinstance(request, OffLoopJSONRequest):
        found = request.unstorable()  # found with the parse, off the event loop for a large body
    else:
        found = first_problem(body)
    if found:
        where, problem = found
        raise InvalidInput(f"{where or 'body'} {problem}", field=where or None)


async def _json_body(request: Request) -> Any:
    """The JSON body FastAPI already parsed (Starlette caches it), or None for no or non-JSON bodies."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method not in ("POST", "PUT", "PATCH") or not (
        content_type in _JSON_TYPES or content_type.endswith("+json")
    ):
        return None
    try:
        return await request.json()
    except (ValueError, RecursionError):  # a route without a body model ignores its body; so do we
        return None
