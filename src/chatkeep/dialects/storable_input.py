"""Refuses request values chatkeep cannot store or render: NUL, lone surrogates, NaN/Infinity, deep nesting.

PostgreSQL rejects U+0000 in text; a lone surrogate (JSON "\\ud800") cannot be encoded as UTF-8 for
either database or for the response; NaN and Infinity (which Python's JSON parser accepts, and which
"1e400" becomes) are not JSON at all; and JSON nested deeper than the serialisers go cannot be rendered
back. Checked once for the whole request, before any model or database sees it, so both backends answer
the same clear 400 instead of failing half-way through a write. Rejected, not stripped: silently changing
what a client stored would be worse than telling it.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request

from chatkeep.core.errors import InvalidInput

_JSON_TYPES = ("application/json",)
# Real bodies nest under 20 levels (a tool's JSON schema is the deepest); the serialisers stop near 250.
MAX_DEPTH = 64


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return "must not contain NUL characters (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (it contains a lone surrogate such as \\ud800)"
    return None


def first_problem(value: Any) -> tuple[str, str] | None:
    """(dotted path, problem) of the first unstorable value inside a parsed JSON document, or None.

    Iterative, so a deeply nested document cannot exhaust the stack.
    """
    stack: list[tuple[str, int, Any]] = [("", 0, value)]
    while stack:
        path, depth, item = stack.pop()
        if depth > MAX_DEPTH:  # name where the nesting starts; the full path would be 64 segments long
            return path.split(".")[0], f"is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return path, problem
        elif isinstance(item, float) and not math.isfinite(item):
            return path, "must be a finite number"
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                problem = text_problem(key)
                if problem:
                    return path, f"keys {problem}"
                stack.append((f"{path}.{key}" if path else str(key), depth + 1, child))
        elif isinstance(item, list):
            indexed = reversed(list(enumerate(item)))
            stack.extend((f"{path}.{i}" if path else str(i), depth + 1, child) for i, child in indexed)
    return None


async def require_storable_input(request: Request) -> None:
    """FastAPI dependency: 400 naming the parameter or body field that holds an unstorable value."""
    params = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, raw in params:
        problem = text_problem(str(raw))
        if problem:
            raise InvalidInput(f"{name} {problem}", field=name)
    body = await _json_body(request)
    found = first_problem(body) if body is not None else None
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
