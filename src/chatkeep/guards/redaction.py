"""Replace detected spans by placeholders such as [REDACTED_EMAIL], merging spans that overlap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of the text to hide, the label its placeholder shows, and the label's weight."""

    start: int
    end: int
    label: str
    rank: int = 0


def placeholder(label: str) -> str:
    """The text that stands in for a redacted span."""
    return f"[REDACTED_{label.upper()}]"


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping spans; a merged span keeps the label of its highest-ranked part."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = span if span.rank > last.rank else last
            merged[-1] = Span(last.start, max(last.end, span.end), best.label, best.rank)
        else:
            merged.append(span)
    return merged


def redact(text: str, spans: Iterable[Span]) -> str:
    """`text` with every span replaced by its placeholder (overlapping spans become one placeholder)."""
    pieces: list[str] = []
    cursor = 0
    for span in merge_spans(spans):
        pieces.append(text[cursor : span.start])
        pieces.append(placeholder(span.label))
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)
