"""Personal data and secrets: the rules that find them, the checksums that confirm them, and the detector."""

from __future__ import annotations

from chatkeep.guards.pii.detect import detect_pii
from chatkeep.guards.pii.match import PiiMatch

__all__ = ["PiiMatch", "detect_pii"]
