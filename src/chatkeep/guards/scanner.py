"""Run both detectors on a message and apply the organisation's policy to what they found."""

from __future__ import annotations

import logging
import unicodedata

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
_COUNT_CHUNK = 4_096


def scan(text: str, policy: GuardPolicy | None = None) -> GuardVerdict:
    """Scan one user message and decide what happens to it under `policy` (None: the default policy).

    Synchronous, pure and thread-safe; never touches the network. The work is bounded by the policy's scan
    budget (`max_scan_chars`, counted after NFKC normalisation, so characters that expand cannot inflate
    it); text beyond the budget is reported as `unscanned_text` and gets `policy.unscanned_action`, by
    default `block`. If the scan itself fails, the message is blocked (fail closed) rather than let
    through unchecked.
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
    cut = scan_limit(text, policy.max_scan_chars)
    scanned, tail = text[:cut], text[cut:]
    matches = detect_pii(scanned) if policy.pii.enabled else []
    injection = detect_injection(scanned) if policy.injection.enabled else InjectionResult()
    injection_found = dict(injection.categories)
    pii_actions = [policy.pii.action_for(m.category, m.severity, m.family) for m in matches]
    injection_actions = {
        name: policy.injection.action_for(name, sev) for name, sev in injection_found.items()
    }
    if tail:
        unscanned = policy.action_for_unscanned()
        injection_found["unscanned_text"] = Severity.HIGH if unscanned == "block" else Severity.MEDIUM
        injection_actions["unscanned_text"] = unscanned
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


def scan_limit(text: str, budget: int) -> int:
    """How many leading characters of `text` fit in the scan budget, counted after NFKC normalisation.

    Counting costs at most one NFKC pass over `budget` characters: ASCII never expands, and the count
    stops at the chunk where the budget runs out.
    """
    if len(text) <= budget and text.isascii():
        return len(text)
    used = 0
    for start in range(0, min(len(text), budget), _COUNT_CHUNK):
        chunk = text[start : start + _COUNT_CHUNK]
        size = len(chunk) if chunk.isascii() else len(unicodedata.normalize("NFKC", chunk))
        if used + size <= budget:
            used += size
            continue
        for offset, char in enumerate(chunk):  # the chunk where the budget runs out, char by char
            used += len(unicodedata.normalize("NFKC", char))
            if used > budget:
                return start + offset
        return start + len(chunk)
    return min(len(text), budget)


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
        attacks = {name: act for name, act in injection_actions.items() if name != "unscanned_text"}
        if injection_actions.get("unscanned_text") == "block":
            sentences.append(notices.TOO_LONG_TO_SCAN)
        if "block" in attacks.values():
            sentences.append(notices.INJECTION_BLOCKED)
        return " ".join(sentences)
    if action == "redact":
        return notices.data_redacted(
            m.family for m, act in zip(matches, pii_actions, strict=True) if act == "redact"
        )
    return None
