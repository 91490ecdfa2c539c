"""Prompt injection: text normalisation, hidden-payload recovery, the rule tables and the detector."""

from __future__ import annotations

from chatkeep.guards.injection.detect import InjectionResult, detect_injection

__all__ = ["InjectionResult", "detect_injection"]
