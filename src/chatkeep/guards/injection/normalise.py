# ruff: noqa: RUF001, RUF002 - look-alike letters are this module's subject matter
"""Undo the usual disguises of an attack text so that plain patterns can match it.

Attackers hide trigger words with invisible characters (ig\u200bnore), look-alike letters from other
scripts (Cyrillic "іgnоre"), styled Unicode (𝐢𝐠𝐧𝐨𝐫𝐞), accents, leetspeak (1gn0re) and punctuation
between letters (i.g.n.o.r.e). `normalised_view` removes all of these; the result is only ever matched,
never shown or stored, so losing accents or digits in it costs nothing.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that render (almost) like a Latin letter, from Cyrillic, Greek and IPA; lower case only,
# because the view is lower-cased first.
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "һ": "h", "ӏ": "l", "ɡ": "g", "ı": "i", "ɑ": "a", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
}  # fmt: skip
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)
# `\b` anchors each try at a word start: without it a long word with no look-alike in it is rescanned
# from every position inside it (quadratic: 50,000 letters took 30 s and blocked the event loop).
_HOMOGLYPH_TOKEN = re.compile(r"\b\w*[" + "".join(_HOMOGLYPHS) + r"]\w*")
_LEET_TABLE = str.maketrans("013457", "oieast")
_ALNUM_RUNS = re.compile(r"([a-z0-9]+)")
# Starts with a character class, so the regex engine skips quickly to candidate digits.
_LEET_HINT = re.compile(r"[013457](?:(?=[a-z])|(?<=[a-z][013457]))")
# Punctuation between two letters; written to start with the punctuation class so the engine can skip.
_PUNCTUATION = re.compile(r"[^\w\s](?<=[^\W\d_][^\w\s])[^\w\s]*(?=[^\W\d_])")
_APOSTROPHES = ("'", "\u2019")
_SPACED_LETTERS = re.compile(r"\b(?:[^\W\d_] ){2,}[^\W\d_]\b")
_SPACED_HINT = re.compile(r" [^\W\d_] [^\W\d_] ")
# Letters that are invisible yet count as letters, used to pad words apart.
_INVISIBLE_LETTERS = (0x115F, 0x1160, 0x3164, 0xFFA0, 0x180E)
_EXTRA_LATIN = {"ø": "o", "đ": "d", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d"}


def _build_cleaning_table() -> dict[int, str | None]:
    """Delete invisible and combining characters, turn odd spaces into spaces, strip Latin accents."""
    table: dict[int, str | None] = {}
    code_points = list(range(0x10000)) + list(range(0xE0000, 0xE0080)) + list(range(0xE0100, 0xE01F0))
    for code in code_points:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Mn", "Me") or code in _INVISIBLE_LETTERS:
            table[code] = None
        elif category in ("Zs", "Zl", "Zp"):
            table[code] = " "
        elif 0xC0 <= code <= 0x24F or 0x1E00 <= code <= 0x1EFF:
            base = unicodedata.normalize("NFD", char)[0]
            if base.isascii() and base.isalpha():
                table[code] = base
    for source, target in _EXTRA_LATIN.items():
        table[ord(source)] = target
    return table


_CLEANING_TABLE = _build_cleaning_table()


def original_view(text: str) -> str:
    """The text as written, lower-cased, without invisible characters or accents.

    Punctuation, line breaks and scripts are kept, which the role-tag rules (<|im_start|>) and the
    Russian rules need; invisible characters are dropped so that they cannot split a tag either.
    """
    view = unicodedata.normalize("NFKC", text).lower()
    return view if view.isascii() else view.translate(_CLEANING_TABLE)


def normalised_view(text: str) -> str:
    """The text with every disguise above removed, lower-cased, words separated by single spaces."""
    view = original_view(text)
    if not view.isascii():
        view = _HOMOGLYPH_TOKEN.sub(_unmask_homoglyphs, view)
    if _LEET_HINT.search(view):
        view = _unleet(view)
    view = _PUNCTUATION.sub(_unpunctuate, view.replace("_", " "))
    if _SPACED_HINT.search(" " + view):
        view = _SPACED_LETTERS.sub(lambda match: match.group(0).replace(" ", ""), view)
    return " ".join(view.split())


def _unleet(view: str) -> str:
    """Read digits as letters in words that mix both ("1gn0r3"); plain numbers are left alone."""
    pieces = _ALNUM_RUNS.split(view)  # odd indexes hold the alphanumeric runs
    for index in range(1, len(pieces), 2):
        word = pieces[index]
        if not word.isalpha() and not word.isdigit():
            pieces[index] = word.translate(_LEET_TABLE)
    return "".join(pieces)


def _unpunctuate(match: re.Match[str]) -> str:
    """Punctuation between letters splits words ("ignore.all"), or joins dotted letters ("a.l.l")."""
    text, start, end = match.string, match.start(), match.end()
    if match.group(0) in _APOSTROPHES:
        return " "  # "i'm" stays two words ("i m"), as the rules expect
    single_before = start < 2 or not text[start - 2].isalpha()
    single_after = end + 1 >= len(text) or not text[end + 1].isalpha()
    return "" if single_before and single_after else " "


def _unmask_homoglyphs(match: re.Match[str]) -> str:
    # Only a word that mixes scripts, or that is spelt wholly in look-alikes, is a disguise;
    # a genuine Russian word ("игнорируй") must stay Cyrillic for the Russian rules.
    token = match.group(0)
    foreign = [char for char in token if not char.isascii()]
    if len(foreign) < len(token) or all(char in _HOMOGLYPHS for char in foreign):
        return token.translate(_HOMOGLYPH_TABLE)
    return token
