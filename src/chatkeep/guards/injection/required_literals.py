"""Find strings that every match of a regex must contain, so a rule can be skipped when none occurs.

Checking `needle in text` runs at memory speed; a regex pass over the same text is tens of times
slower. The needles are derived from the compiled pattern's parse tree, so they cannot drift from the
pattern: if extraction is unsure about any construct it returns None, and the rule always runs.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MAX_SET = 64  # alternatives kept per literal set; beyond that the set is too costly to check
MIN_LENGTH = 3  # shorter needles occur almost everywhere and filter nothing
PREFERRED_LENGTH = 4
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)

Needles = frozenset[str]


def required_literals(pattern: str, flags: int = 0) -> Needles | None:
    """Strings of which every match of `pattern` contains at least one, or None if unknown."""
    if flags & re.IGNORECASE:
        return None
    try:
        tree = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    if tree.state.flags & re.IGNORECASE:
        return None
    return _best(_candidates(list(tree)))


def _exact_item(op: Any, av: Any) -> set[str] | None:
    """Every string this one node can match, if there are few of them."""
    if op is sre.LITERAL:
        return {chr(av)}
    if op in _ZERO_WIDTH:
        return {""}
    if op is sre.IN:
        if len(av) <= 4 and all(kind is sre.LITERAL for kind, _ in av):
            return {chr(value) for _, value in av}
        return None
    if op is sre.SUBPATTERN:
        return None if av[1] & re.IGNORECASE else _exact(list(av[3]))
    if op is sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            strings = _exact(list(branch))
            if strings is None:
                return None
            union |= strings
        return union if len(union) <= MAX_SET else None
    if op in _REPEATS and av[1] <= 1:
        body = _exact(list(av[2]))
        if body is None:
            return None
        return body | {""} if av[0] == 0 else body
    return None


def _exact(items: list[tuple[Any, Any]]) -> set[str] | None:
    strings = {""}
    for op, av in items:
        item = _exact_item(op, av)
        if item is None or len(strings) * len(item) > MAX_SET:
            return None
        strings = {left + right for left in strings for right in item}
    return strings


def _candidates(items: list[tuple[Any, Any]]) -> list[set[str]]:
    """Literal sets, each of which every match of the sequence `items` must contain one of.

    Offered: the product of each stretch of exactly-known nodes, each alternation on its own, and each
    stretch of plain literal text; `_best` then picks the cheapest.
    """
    found: list[set[str]] = []
    run = {""}  # strings matched by the current stretch of exactly-known nodes
    literal = ""  # the current stretch of nodes with a single possible string
    for op, av in items:
        item = _exact_item(op, av)
        if item is not None and len(item) == 1:
            literal += next(iter(item))
        else:
            found.append({literal})
            literal = ""
            if item is not None:
                found.append(item)
            found.extend(_node_candidates(op, av))
        if item is not None and len(run) * len(item) <= MAX_SET:
            run = {left + right for left in run for right in item}
            continue
        found.append(run)
        run = item if item is not None else {""}
    found.extend((run, {literal}))
    return [strings for strings in found if "" not in strings]


def _node_candidates(op: Any, av: Any) -> list[set[str]]:
    if op is sre.SUBPATTERN and not av[1] & re.IGNORECASE:
        return _candidates(list(av[3]))
    if op in _REPEATS and av[0] >= 1:
        return _candidates(list(av[2]))
    if op is sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            best = _best([*_candidates(list(branch)), _exact(list(branch)) or {""}])
            if best is None:
                return []
            union |= best
        return [union] if len(union) <= MAX_SET else []
    return []


def _best(candidates: list[set[str]]) -> Needles | None:
    """The cheapest useful set: fewest strings, preferring needles of at least PREFERRED_LENGTH."""
    usable = [_simplify(strings) for strings in candidates if strings]
    usable = [strings for strings in usable if strings and min(map(len, strings)) >= MIN_LENGTH]
    if not usable:
        return None
    return min(usable, key=lambda strings: (min(map(len, strings)) < PREFERRED_LENGTH, len(strings)))


def _simplify(strings: set[str]) -> Needles:
    # Weakening is sound: a match that contains "instructions " also contains "instruction".
    stripped = {text.strip() for text in strings}
    return frozenset(
        text for text in stripped if not any(other != text and other in text for other in stripped)
    )
