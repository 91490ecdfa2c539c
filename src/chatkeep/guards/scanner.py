"""Run both detectors on a message and apply the organisation's policy to what they found."""

from __future__ import annotations

import logging

from chatkeep.guards import notices
from chatkeep.guards.injection.detect import InjectionResult, detect_injection
from chatkeep.guards.pii.detect import detect_pii
from chatkeep.guards.pii.match import PiiMatch
from chatkeep.guards.policy import ACTION_RANK, GuardPolicy, PolicyAction
from chatkeep.guards.redaction import Span, redact
from chatkeep.guards.severity import Severity, highest
from chatkeep.guards.verdict import GuardVerdict, VerdictAction

logger = logging.getLogger(__name__)

_DEFAULT_POLICY = GuardPolicy.default()
_REMOVING = ("redact", "block")
_VERDICT_ACTION: dict[PolicyAction, VerdictAction] = {
    "none": "allow",
    "flag": "flag",
    "redact": "redact",
    "block": "block",
}
WITHHELD_TEXT = "[Message withheld: the safety check failed]"


def scan(text: str, policy: GuardPolicy | None = None) -> GuardVerdict:
    """Scan one user message and decide what happens to it under `policy` (None: the default policy).

    Synchronous, pure and thread-safe; never touches the network. Text beyond `policy.max_scan_chars` is
    not scanned: it is passed on as written and reported as `unscanned_text`. If the scan itself fails,
    the message is blocked (fail closed) rather than let through unchecked.
    """
    active = policy or _DEFAULT_POLICY
    try:
        return _scan(text, active)
    except Exception:
        logger.exception("guard scan failed; blocking the message")
        return GuardVerdict(
            action="block",
            severity=Severity.CRITICAL,
            injection_categories={"guard_error": Severity.CRITICAL.value},
            pii_categories={},
            model_text=WITHHELD_TEXT,
            stored_text=WITHHELD_TEXT,
            notice=notices.SCAN_FAILED,
        )


def _scan(text: str, policy: GuardPolicy) -> GuardVerdict:
    scanned, tail = text[: policy.max_scan_chars], text[policy.max_scan_chars :]
    matches = detect_pii(scanned) if policy.pii.enabled else []
    injection = detect_injection(scanned) if policy.injection.enabled else InjectionResult()
    injection_found = dict(injection.categories)
    if tail:
        injection_found["unscanned_text"] = Severity.MEDIUM

    pii_actions = [policy.pii.action_for(m.category, m.severity, m.family) for m in matches]
    injection_actions = {
        name: policy.injection.action_for(name, sev) for name, sev in injection_found.items()
    }
    chosen: list[PolicyAction] = [*pii_actions, *injection_actions.values()]
    action = _VERDICT_ACTION[max(chosen, key=ACTION_RANK.__getitem__, default="none")]

    removed = [m for m, act in zip(matches, pii_actions, strict=True) if act in _REMOVING]
    safe_text = redact(scanned, (Span(m.start, m.end, m.family, m.severity.rank) for m in removed)) + tail
    return GuardVerdict(
        action=action,
        severity=highest([*(m.severity for m in matches), *injection_found.values()]),
        injection_categories={name: sev.value for name, sev in injection_found.items()},
        pii_categories=_worst_per_category(matches),
        model_text=safe_text,
        stored_text=safe_text,
        notice=_notice(action, matches, pii_actions, injection_actions),
        injection_score=injection.score,
        truncated=bool(tail),
        pii_matches=tuple(matches),
    )


def _worst_per_category(matches: list[PiiMatch]) -> dict[str, str]:
    worst: dict[str, Severity] = {}
    for match in matches:
        worst[match.category] = highest((worst.get(match.category, Severity.NONE), match.severity))
    return {name: sev.value for name, sev in worst.items()}


def _notice(
    action: VerdictAction,
    matches: list[PiiMatch],
    pii_actions: list[PolicyAction],
    injection_actions: dict[str, PolicyAction],
) -> str | None:
    if action == "block":
        sentences = []
        blocked = [m.category for m, act in zip(matches, pii_actions, strict=True) if act == "block"]
        if blocked:
            sentences.append(notices.secrets_blocked(blocked))
        if "block" in injection_actions.values():
            sentences.append(notices.INJECTION_BLOCKED)
        return " ".join(sentences)
    if action == "redact":
        return notices.data_redacted(
            m.family for m, act in zip(matches, pii_actions, strict=True) if act == "redact"
        )
    return None
