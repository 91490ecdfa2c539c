"""Phone numbers, validated against libphonenumber's per-country numbering plans (the `phonenumbers` package).

A digit run is a phone number when the numbering plan of some country says it is a valid number, and:
- it carries an international prefix (`+372 5123 4567`, `0049 30 1234567`), or
- a phone word stands just before it ("call", "tel", "mobile", …), or
- it is grouped exactly the way that country writes its numbers ("699 956 915" in Spain, "(415) 555-0132"),
  and nothing nearby says it is an order number, a version or a date.
A bare run of digits without any of these is too often an order number to be reported.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException

from chatkeep.guards.pii.match import PiiMatch, context_before

# A phone-shaped run: an optional international prefix or area code in parentheses, then 6 to 17 more
# digits with single separators.
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.\-/:])(?:(?:\+|00) ?)?(?:\(\d{1,5}\)[ .\-]?)?\d(?:[ .\-/]?(?:\(\d{1,5}\)|\d)){5,17}"
    r"(?: ?(?:x|ext\.?) ?\d{1,6})?(?![\w/:]|[.\-]\d)"
)
# Countries tried for numbers written without an international prefix, most frequent callers first.
# Every region libphonenumber knows would find more numbers and more false ones; this set covers the
# locales the project's users write in.
NATIONAL_REGIONS = (
    "US", "GB", "DE", "FR", "ES", "IT", "PT", "BR", "NL", "BE", "CH", "AT", "IE", "PL", "CZ", "SK", "HU",
    "RO", "BG", "GR", "HR", "SI", "EE", "LV", "LT", "FI", "SE", "NO", "DK", "RU", "UA", "TR", "IL", "IN",
    "AU", "NZ", "CA", "MX", "AR", "CL", "CO", "PE", "JP", "KR", "CN", "TW", "HK", "SG", "PH", "TH", "VN",
    "ID", "MY", "ZA", "NG", "KE", "EG", "SA", "AE", "IR", "PK", "BD",
)  # fmt: skip
PHONE_WORDS = (
    "phone", "tel", "mobile", "cell", "call", "sms", "whatsapp", "signal", "fax", "reach me", "ring me",
    "text me", "my number", "number is", "contact", "telefon", "puhelin", "téléphone", "teléfono", "móvil",
    "telemóvel", "telefone", "celular", "portable", "handy", "телефон", "номер", "mobiil", "helista",
)  # fmt: skip
# Words that make a grouped number something else; only consulted when no phone word is present.
NOT_PHONE_WORDS = (
    "order", "invoice", "ref", "ticket", "tracking", "version", "build", "release", "isbn", "serial",
    "account", "iban", "card", "sku", "part", "id ", "no.", "case", "batch", "lot ",
)  # fmt: skip
_DATE = re.compile(r"^\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}$")
_GROUPS = re.compile(r"\d+")
_IP_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_EXTENSION = re.compile(r" ?(?:x|ext\.?) ?\d+$")


def phone_match(match: re.Match[str], text: str) -> PiiMatch | None:
    """Classify one phone-shaped candidate; None when it is not a valid number or too ambiguous."""
    raw = _EXTENSION.sub("", match.group(0))
    digits = "".join(char for char in raw if char.isdigit())
    if not 7 <= len(digits) <= 15 or _DATE.match(raw.strip()):
        return None
    cue = context_before(text, match.start(), PHONE_WORDS, width=32)
    if raw.startswith("+") or (raw.startswith("00") and len(_GROUPS.findall(raw)) > 1):
        number = _parse("+" + raw[2:] if raw.startswith("00") else raw, None)
        # An international prefix is itself the cue: a number of a possible length for its country is
        # reported even when the numbering plan does not list its range (fictional and new ranges).
        return _found(match) if number is not None and phonenumbers.is_possible_number(number) else None
    if not cue and (_IP_LIKE.match(raw) or context_before(text, match.start(), NOT_PHONE_WORDS)):
        return None
    groups = _GROUPS.findall(raw)
    for region in NATIONAL_REGIONS:
        number = _parse(raw, region)
        if number is None:
            continue
        if cue and phonenumbers.is_valid_number(number):
            return _found(match)
        # Without a cue word: written as a phone number (split into groups, or with an area code in
        # parentheses) and of a length that country dials.
        if len(groups) >= 2 and phonenumbers.is_possible_number(number) and _phone_groups(raw, groups):
            return _found(match)
        # One unbroken run: only with the national trunk prefix 0 and in a range the plan assigns.
        if (
            len(groups) == 1
            and len(raw) <= 11
            and raw[:2] != "00"
            and raw[0] == "0"
            and phonenumbers.is_valid_number(number)
        ):
            return _found(match)
    return None


def _found(match: re.Match[str]) -> PiiMatch:
    return PiiMatch("phone", match.start(), match.end())


def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def _phone_groups(raw: str, groups: list[str]) -> bool:
    """Digit groups the way phone numbers are written: no group longer than 4 except the last two's
    6-7 digit subscriber numbers, and at least 2 digits in all but the first group."""
    if "(" in raw:
        return True
    sizes = [len(group) for group in groups]
    return all(size >= 2 for size in sizes[1:]) and max(sizes[:-1], default=0) <= 5 and sizes[-1] <= 8
