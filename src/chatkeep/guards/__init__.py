"""Input guards: find personal data, secrets and prompt-injection in a user message, and apply a policy.

Every user message passes `scan` before it reaches a model::

    verdict = scan(text, policy)          # policy: the organisation's GuardPolicy, or None for the default
    if verdict.action == "block": ...     # send nothing to the model; show verdict.notice
    send(verdict.model_text)              # redacted where the policy says so
    store(verdict.stored_text, **verdict.safety_fields())
"""

from __future__ import annotations

from chatkeep.guards.policy import DetectorPolicy, GuardPolicy, PolicyAction
from chatkeep.guards.scanner import scan
from chatkeep.guards.severity import Severity
from chatkeep.guards.verdict import GuardVerdict, VerdictAction

__all__ = [
    "DetectorPolicy",
    "GuardPolicy",
    "GuardVerdict",
    "PolicyAction",
    "Severity",
    "VerdictAction",
    "scan",
]
