"""The shape of an injection rule, and the small regex vocabulary the rule tables are written in."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from chatkeep.guards.injection.required_literals import required_literals


@dataclass(frozen=True, slots=True)
class InjectionRule:
    """A pattern over a lower-cased view of the text, the category it signals, and how sure it is (0 to 1).

    `needles`: strings of which any match contains one (derived from the pattern); when none occurs in
    the text the pattern cannot match and is not run. None means "always run".
    `also_original`: match the original view as well as the normalised one. Needed where normalising
    destroys what the rule looks for: punctuation and line starts of role tags, and short Cyrillic words
    that fold into Latin look-alikes ("на" becomes "ha").
    """

    category: str
    weight: float
    pattern: re.Pattern[str]
    needles: frozenset[str] | None
    also_original: bool = False


def rule(category: str, weight: float, pattern: str) -> InjectionRule:
    """Compile one rule; patterns are written for lower-case text with single spaces between words."""
    return InjectionRule(category, weight, re.compile(pattern, re.MULTILINE), required_literals(pattern))


def on_both_views(*rules: InjectionRule) -> tuple[InjectionRule, ...]:
    """The same rules, matched against the original view too."""
    return tuple(replace(each, also_original=True) for each in rules)


def gap(words: int) -> str:
    """Punctuation stuck to the word before ("access,"), then up to `words` more words, lazily."""
    return rf"\S*?(?: \S+){{0,{words}}}?"


def one_of(*alternatives: str) -> str:
    """A non-capturing alternation of regex fragments."""
    return "(?:" + "|".join(alternatives) + ")"
