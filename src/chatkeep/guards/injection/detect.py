"""Score a text for prompt-injection: which attack categories it shows and how severe each is."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatkeep.guards.injection import classifier
from chatkeep.guards.injection.hidden_text import hidden_texts
from chatkeep.guards.injection.normalise import normalised_view, original_view
from chatkeep.guards.injection.rule import InjectionRule
from chatkeep.guards.injection.rules_english import ENGLISH_RULES
from chatkeep.guards.injection.rules_languages import LANGUAGE_RULES
from chatkeep.guards.severity import Severity, severity_for_score

RULES: tuple[InjectionRule, ...] = ENGLISH_RULES + LANGUAGE_RULES

# Several kinds of attack in one message are rarely an accident: each extra category adds this much.
CATEGORY_BONUS = 0.1
MAX_BONUS = 0.2
# Instructions smuggled in an encoding are worse than the same words in the clear.
HIDDEN_BONUS = 0.05
# What the classifier's verdict weighs when no rule matched: above its block threshold a high severity
# (blocked by the default policy), above its flag threshold a medium one (flagged only).
CLASSIFIER_BLOCK_WEIGHT = 0.8
CLASSIFIER_FLAG_WEIGHT = 0.6
# A short text gives the model too few n-grams to be sure of ("What is a system prompt?" reads like an
# attack to it); short attacks are the rules' job, so the classifier only speaks from this many words up.
CLASSIFIER_MIN_WORDS = 10


@dataclass(frozen=True, slots=True)
class InjectionResult:
    """The overall score in [0, 1] and each category found with its severity."""

    score: float = 0.0
    categories: dict[str, Severity] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return severity_for_score(self.score)


def detect_injection(text: str) -> InjectionResult:
    """Find the injection categories in `text`, including instructions hidden in encodings.

    Rules run on the normalised view (and the original view where a rule needs it), then on every
    text `hidden_texts` recovers. When no rule matches, the classifier scores the normalised view and
    may report `suspected_injection`.
    """
    normalised = normalised_view(text)
    weights = _match(original_view(text), normalised)
    # Everything recovered is matched in one pass: a thousand decoded decoys cost one rule pass, not a
    # thousand, and a payload split over several blobs is read as the one text it is.
    hidden = "\n".join(hidden_texts(text, normalised))
    if hidden:
        inner = _match(original_view(hidden), normalised_view(hidden))
        if inner:
            weights["encoded_payload"] = min(1.0, max(inner.values()) + HIDDEN_BONUS)
    if not weights and normalised.count(" ") + 1 >= CLASSIFIER_MIN_WORDS:
        weights = _classify(normalised)
    return score(weights)


def _classify(normalised: str) -> dict[str, float]:
    learned = classifier.model()
    probability = learned.probability(normalised)
    if probability >= learned.block_threshold:
        return {"suspected_injection": CLASSIFIER_BLOCK_WEIGHT}
    if probability >= learned.flag_threshold:
        return {"suspected_injection": CLASSIFIER_FLAG_WEIGHT}
    return {}


def score(weights: dict[str, float]) -> InjectionResult:
    """Turn per-category weights into a result: the strongest weight plus a bonus for extra categories."""
    if not weights:
        return InjectionResult()
    bonus = min(MAX_BONUS, CATEGORY_BONUS * (len(weights) - 1))
    categories = {name: severity_for_score(min(1.0, weight + bonus)) for name, weight in weights.items()}
    return InjectionResult(min(1.0, max(weights.values()) + bonus), categories)


def _match(original: str, normalised: str) -> dict[str, float]:
    # Needle checks are cached per view: many rules share needles ("instruction", "your").
    in_normalised: dict[str, bool] = {}
    in_original: dict[str, bool] = {}
    weights: dict[str, float] = {}
    for rule in RULES:
        if rule.weight <= weights.get(rule.category, 0.0):
            continue  # this category already has a stronger hit
        if _matches(rule, normalised, in_normalised) or (
            rule.also_original and _matches(rule, original, in_original)
        ):
            weights[rule.category] = rule.weight
    return weights


def _matches(rule: InjectionRule, view: str, present: dict[str, bool]) -> bool:
    if rule.needles is not None and not _any_present(rule.needles, view, present):
        return False
    return rule.pattern.search(view) is not None


def _any_present(needles: frozenset[str], haystack: str, present: dict[str, bool]) -> bool:
    for needle in needles:
        found = present.get(needle)
        if found is None:
            found = present[needle] = needle in haystack
        if found:
            return True
    return False
