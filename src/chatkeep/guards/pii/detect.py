"""Find personal data and secrets in a text, as non-overlapping reports of the most severe kind."""

from __future__ import annotations

import re

from chatkeep.guards.pii.credentials import CREDENTIAL_RULES
from chatkeep.guards.pii.match import PiiMatch
from chatkeep.guards.pii.personal_data import PERSONAL_DATA_RULES
from chatkeep.guards.pii.vendor_secrets import VENDOR_RULES

_RULES = CREDENTIAL_RULES + VENDOR_RULES + PERSONAL_DATA_RULES
_DIGIT_RUN = re.compile(r"\d(?:[ \-./]?\d){3,}")
# How far around a digit run a numeric match may reach (an IBAN or phone number is at most ~45 chars).
# Generous, so that no match can end at a window's edge, where `endpos` would hide what follows.
WINDOW_REACH = 64


def detect_pii(text: str) -> list[PiiMatch]:
    """Every PII span in `text`, ordered by position.

    A span that lies inside a more (or equally) severe one is dropped: the IP in a database URL or the
    digits of a card inside a bigger match are one finding, reported as the bigger thing.
    """
    lowered = text.lower()
    windows = _digit_windows(text)
    found: list[tuple[int, PiiMatch]] = []
    for order, rule in enumerate(_RULES):
        if rule.needles and not any(needle in lowered for needle in rule.needles):
            continue
        spans = windows if rule.numeric else [(0, len(text))]
        for start, end in spans:
            for match in rule.pattern.finditer(text, start, end):
                hit = rule.classify(match, text)
                if hit is not None and hit.end > hit.start:
                    found.append((order, hit))
    return _drop_nested(found)


def _digit_windows(text: str) -> list[tuple[int, int]]:
    """Merged ranges around every run of four or more digits: the only places numeric rules can match."""
    windows: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        start, end = max(0, run.start() - WINDOW_REACH), min(len(text), run.end() + WINDOW_REACH)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _drop_nested(found: list[tuple[int, PiiMatch]]) -> list[PiiMatch]:
    kept: list[PiiMatch] = []
    for cluster in _overlapping_clusters(found):
        kept.extend(_keep_outermost(cluster))
    return sorted(kept, key=lambda hit: (hit.start, hit.end))


def _overlapping_clusters(found: list[tuple[int, PiiMatch]]) -> list[list[tuple[int, PiiMatch]]]:
    """Split matches into runs of overlapping spans, so nesting is only checked where it can happen."""
    clusters: list[list[tuple[int, PiiMatch]]] = []
    reach = -1
    for item in sorted(found, key=lambda item: item[1].start):
        if item[1].start >= reach:
            clusters.append([])
        clusters[-1].append(item)
        reach = max(reach, item[1].end)
    return clusters


def _keep_outermost(cluster: list[tuple[int, PiiMatch]]) -> list[PiiMatch]:
    # Most severe first, then longest, then rule order: a kept match is never inside a later one.
    ranked = sorted(cluster, key=lambda item: (-item[1].severity.rank, item[1].start - item[1].end, item[0]))
    kept: list[PiiMatch] = []
    for _, hit in ranked:
        if not any(other.start <= hit.start and hit.end <= other.end for other in kept):
            kept.append(hit)
    return kept
