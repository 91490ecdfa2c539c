"""Screening user messages that are stored without a model call (e.g. appended through the API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chatkeep.core.conversations import NewMessage
from chatkeep.core.org_config import AIConfig
from chatkeep.guards import GuardPolicy, scan


def policy_of(config: AIConfig) -> GuardPolicy | None:
    """The organisation's guard policy, or None for the default one."""
    return GuardPolicy.model_validate(config.guard_policy) if config.guard_policy else None


def screen(messages: Sequence[NewMessage], policy: GuardPolicy | None) -> list[NewMessage]:
    """User messages pass the guards: stored redacted where the policy says so, with detection fields.

    Nothing is refused here, because no model sees these messages now; a blocked message is stored
    flagged (secrets cut out) and is never replayed into a model's context later.
    """
    screened = []
    for message in messages:
        if message.role != "user":
            screened.append(message)
            continue
        verdict = scan(message.content, policy)
        screened.append(replace(message, content=verdict.stored_text, safety=verdict.safety_fields()))
    return screened
