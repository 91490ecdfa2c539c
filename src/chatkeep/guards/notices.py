"""The short sentences shown to a user whose message was redacted or blocked."""

from __future__ import annotations

from collections.abc import Iterable

from chatkeep.guards.categories import FAMILY_DISPLAY, PII_CATEGORIES

INJECTION_BLOCKED = "Message blocked: it reads as an attempt to override the assistant's instructions."
TOO_LONG_TO_SCAN = "Message blocked: it is too long to be checked for safety. Please send a shorter one."
SCAN_FAILED = "Message blocked: the safety check could not be completed. Please try again."


def _listing(names: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(names))  # ordered, without repeats


def secrets_blocked(categories: Iterable[str]) -> str:
    """Notice for a message blocked because it holds credentials or other blocked personal data."""
    names = _listing(PII_CATEGORIES[name].display for name in categories)
    return f"Sensitive data detected ({names}). Message blocked."


def data_redacted(families: Iterable[str]) -> str:
    """Notice for a message sent with personal data replaced by placeholders."""
    names = _listing(FAMILY_DISPLAY[family] for family in families)
    return f"Personal information detected and redacted ({names})."
