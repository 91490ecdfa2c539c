"""An organisation's guard policy: what to do with each detected category or severity.

Stored as JSON inside the organisation's AI config, so it is a pydantic model that validates what
admins write (unknown category names are rejected: a typo must not silently switch a block rule off).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chatkeep.guards.categories import INJECTION_CATEGORIES, PII_CATEGORIES, PII_FAMILIES
from chatkeep.guards.severity import Severity

PolicyAction = Literal["none", "flag", "redact", "block"]
ACTION_RANK: dict[str, int] = {"none": 0, "allow": 0, "flag": 1, "redact": 2, "block": 3}


class DetectorPolicy(BaseModel):
    """Actions for one detector. A finding's action is looked up by category, then by family, then by
    severity; if none of them is listed, the finding is only recorded (`none`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    categories: dict[str, PolicyAction] = Field(default_factory=dict)
    severities: dict[Severity, PolicyAction] = Field(default_factory=dict)

    def action_for(self, category: str, severity: Severity, family: str | None = None) -> PolicyAction:
        """The action this policy takes for one finding."""
        if category in self.categories:
            return self.categories[category]
        if family is not None and family in self.categories:
            return self.categories[family]
        return self.severities.get(severity, "none")


def _default_pii() -> DetectorPolicy:
    secrets: dict[str, PolicyAction] = dict.fromkeys(("api_key", "credential", "private_key"), "block")
    personal: dict[str, PolicyAction] = dict.fromkeys(
        ("payment_card", "iban", "national_id", "phone"), "redact"
    )
    visible: dict[str, PolicyAction] = dict.fromkeys(
        ("email", "ip_address", "test_payment_card", "test_credential"), "flag"
    )
    return DetectorPolicy(categories={**secrets, **personal, **visible})


def _default_injection() -> DetectorPolicy:
    return DetectorPolicy(
        severities={
            Severity.LOW: "flag",
            Severity.MEDIUM: "flag",
            Severity.HIGH: "block",
            Severity.CRITICAL: "block",
        }
    )


class GuardPolicy(BaseModel):
    """What the guards do with a message. A detector section that is given replaces that detector's
    default as a whole; a section left out keeps the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pii: DetectorPolicy = Field(default_factory=_default_pii)
    injection: DetectorPolicy = Field(default_factory=_default_injection)
    # The scan budget: text is scanned until its normalised form (NFKC, which can expand one character
    # into 18) reaches this many characters. The rest is not scanned and reported as `unscanned_text`.
    max_scan_chars: int = Field(default=50_000, ge=1_000, le=1_000_000)
    # What happens to a message with unscanned text, unless the injection section names `unscanned_text`
    # itself. Block by default: text nobody looked at must not reach a model (fail closed).
    unscanned_action: PolicyAction = "block"

    def action_for_unscanned(self) -> PolicyAction:
        """The action for a message whose tail lay beyond the scan budget."""
        return self.injection.categories.get("unscanned_text", self.unscanned_action)

    @classmethod
    def default(cls) -> GuardPolicy:
        """The recommended policy: block secrets and clear attacks, redact personal data, flag the rest."""
        return cls()

    @field_validator("pii")
    @classmethod
    def _known_pii_names(cls, value: DetectorPolicy) -> DetectorPolicy:
        unknown = sorted(set(value.categories) - set(PII_CATEGORIES) - PII_FAMILIES)
        if unknown:
            raise ValueError(f"unknown PII categories or families: {', '.join(unknown)}")
        return value

    @field_validator("injection")
    @classmethod
    def _known_injection_names(cls, value: DetectorPolicy) -> DetectorPolicy:
        unknown = sorted(set(value.categories) - INJECTION_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown injection categories: {', '.join(unknown)}")
        # An attack has no span worth cutting out: the words around it still carry the instruction.
        if "redact" in value.categories.values() or "redact" in value.severities.values():
            raise ValueError("injection findings cannot be redacted; use flag or block")
        return value
