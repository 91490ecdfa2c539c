"""Which values of a parsed JSON body chatkeep cannot store or render (see dialects.storable_input).

No web framework here: a worker process parses a large body and checks it in one go (dialects.json_body).
"""

from __future__ import annotations

import json
import math
from typing import Any

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


def parse_checked(body: bytes) -> tuple[Any, tuple[str, str] | None]:
    """`json.loads(body)` and its first unstorable value: both walk the whole body (1M list items: ~0.7 s
    of checking), so a large body gets both in a worker process."""
    value = json.loads(body)
    return value, first_problem(value)
