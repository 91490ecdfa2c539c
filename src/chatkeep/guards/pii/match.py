"""The shapes PII rules share: a rule (a regex plus a classifier) and the span it reports."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chatkeep.guards.categories import PII_CATEGORIES
from chatkeep.guards.severity import Severity


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """A detected span of the scanned text; `end` is exclusive. The text itself is never kept."""

    category: str
    start: int
    end: int

    @property
    def severity(self) -> Severity:
        return PII_CATEGORIES[self.category].severity

    @property
    def family(self) -> str:
        return PII_CATEGORIES[self.category].family


# A classifier looks at one regex match in context and says what it is, or None for "not PII after all".
Classifier = Callable[[re.Match[str], str], PiiMatch | None]


@dataclass(frozen=True, slots=True)
class PiiRule:
    """A compiled pattern and the classifier that validates each of its matches.

    `needles` are lower-case substrings of which at least one must occur before the regex runs at all:
    a substring search is far cheaper than a regex pass over a long message.
    `numeric`: every match holds four or more digits in a row (single separators allowed), so the
    pattern only needs to run near such digit runs.
    """

    pattern: re.Pattern[str]
    classify: Classifier
    needles: tuple[str, ...] = ()
    numeric: bool = False


def whole(category: str, group: int = 0) -> Classifier:
    """A classifier that accepts every match and reports `group` (the whole match by default)."""

    def classify(match: re.Match[str], _text: str) -> PiiMatch | None:
        return PiiMatch(category, match.start(group), match.end(group))

    return classify


def context_before(text: str, start: int, words: Iterable[str], width: int = 40) -> bool:
    """True when one of `words` (lower case) occurs in the `width` characters before `start`."""
    window = text[max(0, start - width) : start].lower()
    return any(word in window for word in words)
