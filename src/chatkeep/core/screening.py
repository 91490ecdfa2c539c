"""Screening: every text that can reach a model, now or by replay, passes the guards first.

What counts as such text: every message of every role that a caller sends or stores (system text from a
caller is user input; only the organisation's own configured system prompt is trusted), a request's own
system prompt, tool calls and tool results, and the text of documents. Each message gets its own verdict;
a turn is blocked if any of its parts is.

Scanning is CPU work on text a caller chose, so it runs in a small worker pool, never on the event loop
and never inside a write transaction, and a request's texts share one budget: text beyond it is not
scanned and gets the policy's action for unscanned text (by default: block).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from chatkeep.core.conversations import NewMessage
from chatkeep.core.org_config import AIConfig
from chatkeep.core.workers import run_scan
from chatkeep.guards import GuardPolicy, GuardVerdict, Severity, scan
from chatkeep.guards.policy import ACTION_RANK
from chatkeep.observability import observe
from chatkeep.providers.base import (
    ChatMessage,
    ContentBlock,
    MediaBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from chatkeep.providers.media import document_text

# Characters of text one request may have scanned in all; more is not scanned (see the module docstring).
REQUEST_SCAN_CHARS = 1_000_000
_DEFAULT_POLICY = GuardPolicy.default()
# Stands for a binary document whose text cannot be read here: it is scanned as unscannable text.
_UNREADABLE = "\x00"


def policy_of(config: AIConfig) -> GuardPolicy | None:
    """The organisation's guard policy, or None for the default one."""
    return GuardPolicy.model_validate(config.guard_policy) if config.guard_policy else None


@dataclass(frozen=True, slots=True)
class ScreenedTurn:
    """A turn's input after the guards: messages and system prompt as the model may see them (redacted
    where the policy says so), each message's verdict, and the verdict that decides the turn."""

    messages: list[ChatMessage]
    verdicts: list[GuardVerdict | None]
    system_prompt: str | None
    decisive: GuardVerdict | None

    @property
    def blocked(self) -> bool:
        return self.decisive is not None and self.decisive.action == "block"


async def screen_turn(
    messages: Sequence[ChatMessage], system_prompt: str | None, policy: GuardPolicy | None
) -> ScreenedTurn:
    """Screen every message of a turn's input, and its own system prompt (see core.workers)."""
    size = sum(_size(m) for m in messages) + len(system_prompt or "")
    screened = await observe.screening(run_scan(size, _screen_turn, list(messages), system_prompt, policy))
    observe.verdicts(screened.verdicts)
    return screened


async def screen_stored(messages: Sequence[NewMessage], policy: GuardPolicy | None) -> list[NewMessage]:
    """Messages stored without a model call (appended through an API), each with its verdict.

    Nothing is refused here, because no model sees these messages now: a blocked message is stored flagged
    (secrets cut out) and is never replayed into a model's context later.
    """
    if not messages:
        return []
    size = sum(len(m.content) for m in messages)
    stored = await observe.screening(run_scan(size, _screen_stored, list(messages), policy))
    observe.stored_verdicts(m.safety for m in stored)
    return stored


class _Budget:
    """The request's remaining scan budget, shared by all its texts."""

    def __init__(self, chars: int) -> None:
        self.left = chars

    def scan(self, text: str, policy: GuardPolicy | None) -> GuardVerdict:
        limit = min((policy or _DEFAULT_POLICY).max_scan_chars, self.left)
        if text == _UNREADABLE:
            limit = 0
        self.left -= min(len(text), limit)
        if limit < len(text):
            # Only `limit` characters are scanned; scan() reports the rest as unscanned text.
            policy = (policy or _DEFAULT_POLICY).model_copy(update={"max_scan_chars": limit})
        return scan(text, policy)


def _screen_turn(
    messages: list[ChatMessage], system_prompt: str | None, policy: GuardPolicy | None
) -> ScreenedTurn:
    budget = _Budget(REQUEST_SCAN_CHARS)
    screened: list[ChatMessage] = []
    verdicts: list[GuardVerdict | None] = []
    for message in messages:
        blocks, verdict = _screen_blocks(message.content, budget, policy)
        screened.append(ChatMessage(role=message.role, content=blocks))
        verdicts.append(verdict)
    prompt_verdict = budget.scan(system_prompt, policy) if system_prompt else None
    if prompt_verdict is not None:
        system_prompt = prompt_verdict.model_text
    return ScreenedTurn(
        messages=screened,
        verdicts=verdicts,
        system_prompt=system_prompt,
        decisive=merge([*verdicts, prompt_verdict]),
    )


def _screen_stored(messages: list[NewMessage], policy: GuardPolicy | None) -> list[NewMessage]:
    budget = _Budget(REQUEST_SCAN_CHARS)
    out = []
    for message in messages:
        verdict = budget.scan(message.content, policy)
        out.append(replace(message, content=verdict.stored_text, safety=verdict.safety_fields()))
    return out


def _screen_blocks(
    blocks: tuple[ContentBlock, ...], budget: _Budget, policy: GuardPolicy | None
) -> tuple[tuple[ContentBlock, ...], GuardVerdict | None]:
    """Each readable part of a message scanned on its own (so redactions land in the right block): its
    text blocks as one text, and every tool call, tool result and document. Block order is kept."""
    verdicts: list[GuardVerdict] = []
    texts = [b for b in blocks if isinstance(b, TextBlock)]
    text = "".join(b.text for b in texts)
    text_verdict = budget.scan(text, policy) if texts else None
    if text_verdict is not None:
        verdicts.append(text_verdict)
    redacted_text = text_verdict is not None and text_verdict.model_text != text
    out: list[ContentBlock] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            # Redacted text takes the place of the first text block; unchanged blocks stay as they were.
            if not redacted_text:
                out.append(block)
            elif block is texts[0]:
                assert text_verdict is not None
                out.append(TextBlock(text_verdict.model_text))
        elif isinstance(block, ToolResultBlock):
            verdict = budget.scan(block.content, policy)
            verdicts.append(verdict)
            out.append(replace(block, content=verdict.model_text))
        elif isinstance(block, ToolUseBlock):
            verdicts.append(budget.scan(json.dumps(block.input, ensure_ascii=False), policy))
            out.append(block)
        elif isinstance(block, MediaBlock) and block.kind == "document":
            readable = document_text(block)
            verdict = budget.scan(_UNREADABLE if readable is None else readable, policy)
            verdicts.append(verdict)
            redacted = readable is not None and verdict.model_text != readable
            out.append(replace(block, data=verdict.model_text.encode()) if redacted else block)
        else:
            out.append(block)
    return tuple(out), merge(verdicts)


def merge(verdicts: Sequence[GuardVerdict | None]) -> GuardVerdict | None:
    """One verdict for several parts: the strongest action, the worst severity, every category found
    (at its worst), and each part's notice once. Text fields are the first part's."""
    found = [v for v in verdicts if v is not None]
    if len(found) <= 1:
        return found[0] if found else None
    strongest = max(found, key=lambda v: ACTION_RANK[v.action])
    notices = list(dict.fromkeys(v.notice for v in found if v.notice))
    return replace(
        found[0],
        action=strongest.action,
        severity=max((v.severity for v in found), key=lambda s: s.rank, default=Severity.NONE),
        injection_categories=_worst_of(v.injection_categories for v in found),
        pii_categories=_worst_of(v.pii_categories for v in found),
        notice=" ".join(notices) or None,
        injection_score=max(v.injection_score for v in found),
        truncated=any(v.truncated for v in found),
    )


def _size(message: ChatMessage) -> int:
    """Characters a message may have scanned (a document's bytes stand for its text)."""
    total = 0
    for block in message.content:
        if isinstance(block, TextBlock):
            total += len(block.text)
        elif isinstance(block, ToolResultBlock):
            total += len(block.content)
        elif isinstance(block, MediaBlock):
            total += len(block.data) if block.kind == "document" else 0
        else:
            total += len(str(block.input))
    return total


def _worst_of(categories: Iterable[dict[str, str]]) -> dict[str, str]:
    worst: dict[str, str] = {}
    for mapping in categories:
        for name, severity in mapping.items():
            if name not in worst or Severity(severity).rank > Severity(worst[name]).rank:
                worst[name] = severity
    return worst
