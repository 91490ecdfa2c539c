"""Needles derived from rule patterns must never skip a rule that would have matched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatkeep.guards.injection.detect import RULES
from chatkeep.guards.injection.normalise import normalised_view, original_view
from chatkeep.guards.injection.required_literals import required_literals

DATASET = Path(__file__).resolve().parents[2] / "data" / "guards" / "labelled.jsonl"


@pytest.mark.parametrize(
    ("pattern", "needles"),
    [
        (r"\bdo anything now\b", {"do anything now"}),
        (r"(?:ignore|disregard) (?:all )?previous", {"previous"}),
        (r"<\|im[ _]start\|>", {"<|im"}),  # a shorter needle is sound: every match contains it
        (r"\[/?inst\]", {"inst]"}),
        (r"(?:abc|de)\w+", None),  # "de" is too short to filter anything
        (r"(?i)secret", None),  # case-insensitive patterns are not reduced
        (r"x*y?", None),
    ],
)
def test_required_literals(pattern: str, needles: set[str] | None) -> None:
    result = required_literals(pattern)
    assert (set(result) if result is not None else None) == needles


def test_nearly_every_rule_has_needles() -> None:
    assert sum(rule.needles is None for rule in RULES) <= 2


def _texts() -> list[str]:
    rows = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line]
    return [row["text"] for row in rows]


def test_needles_never_skip_a_matching_rule_on_the_labelled_set() -> None:
    checked = 0
    for text in _texts():
        for view in (original_view(text), normalised_view(text)):
            for rule in RULES:
                if rule.needles is not None and rule.pattern.search(view):
                    checked += 1
                    assert any(needle in view for needle in rule.needles), (rule.pattern.pattern, text)
    assert checked > 100  # the check above really ran over many matches


def test_needles_are_trimmed_and_long_enough_to_filter() -> None:
    for rule in RULES:
        for needle in rule.needles or ():
            assert needle == needle.strip()
            assert len(needle) >= 3
