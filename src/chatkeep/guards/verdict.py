"""The outcome of scanning one message: what to do with it, and what to store and show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from chatkeep.guards.pii.match import PiiMatch
from chatkeep.guards.severity import Severity

VerdictAction = Literal["allow", "flag", "redact", "block"]


@dataclass(frozen=True)
class GuardVerdict:
    """What the guards decided about one message.

    - `action`: the strongest action the policy chose. `allow` and `flag` send the text unchanged,
      `redact` sends `model_text`, `block` sends nothing from this message to the model.
    - `is_flagged`: `action != "allow"`, set from `action` so the two cannot disagree.
    - `model_text` / `stored_text`: the text with every span the policy redacts or blocks replaced by a
      placeholder; they are always equal (what the model saw is what is stored). On `block` the
      message must not reach the model, but `stored_text` is still safe to keep: secrets are cut out,
      while an injection attempt is kept as written, for review.
    - `notice`: one short sentence for the user on `redact` and `block`, otherwise None.
    - `truncated`: the text was longer than the policy's scan limit; the rest was not scanned.
    - `pii_matches`: positions (in the original text) of the personal data found, for highlighting.
    """

    action: VerdictAction
    severity: Severity
    is_flagged: bool = field(init=False)
    injection_categories: dict[str, str]
    pii_categories: dict[str, str]
    model_text: str
    stored_text: str
    notice: str | None = None
    injection_score: float = 0.0
    truncated: bool = False
    pii_matches: tuple[PiiMatch, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_flagged", self.action != "allow")

    def safety_fields(self) -> dict[str, Any]:
        """The detection fields to store on a message row."""
        return {
            "is_flagged": self.is_flagged,
            "severity": str(self.severity),
            "injection_categories": dict(self.injection_categories),
            "pii_categories": dict(self.pii_categories),
            "action_taken": self.action,
        }
