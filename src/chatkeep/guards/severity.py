"""Severity levels shared by every detector, ordered from harmless to worst."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    """How bad a detection is; the policy turns it into an action."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order none < low < medium < high < critical."""
        return _RANKS[self]


_RANKS = {severity: index for index, severity in enumerate(Severity)}


def highest(severities: Iterable[Severity]) -> Severity:
    """The worst of `severities`, or `none` when there are none."""
    return max(severities, key=lambda severity: severity.rank, default=Severity.NONE)


def severity_for_score(score: float) -> Severity:
    """Map an injection score in [0, 1] to a severity band."""
    if score >= 0.9:
        return Severity.CRITICAL
    if score >= 0.75:
        return Severity.HIGH
    if score >= 0.5:
        return Severity.MEDIUM
    if score > 0:
        return Severity.LOW
    return Severity.NONE
