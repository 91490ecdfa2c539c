"""Check digits and format rules that tell a real identifier from a number that merely looks like one."""

from __future__ import annotations

import datetime as dt

# Official IBAN lengths per country (ISO 13616 registry). A wrong length is never a real IBAN.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    """True when `digits` passes the Luhn (mod 10) check used by payment cards."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# Issuer identification number (IIN) ranges of the card schemes and the lengths each issues, from the
# schemes' published ISO/IEC 7812 allocations as collected in the "Payment card number" IIN table:
# (first prefix, last prefix, shortest length, longest length). Prefixes of one range have equal width.
CARD_RANGES: tuple[tuple[str, str, int, int], ...] = (
    ("4", "4", 13, 19),  # Visa (13, 16 and 19 in practice; Visa Electron inside this range)
    ("51", "55", 16, 16), ("2221", "2720", 16, 16),  # Mastercard
    ("34", "34", 15, 15), ("37", "37", 15, 15),  # American Express
    ("300", "305", 14, 19), ("3095", "3095", 14, 19), ("36", "36", 14, 19), ("38", "39", 14, 19),  # Diners
    ("6011", "6011", 16, 19), ("644", "649", 16, 19), ("65", "65", 16, 19),  # Discover
    ("622126", "622925", 16, 19),  # Discover co-branded UnionPay
    ("35", "35", 16, 19),  # JCB (allocated 3528-3589; generators and older tables use all of 35)
    ("1800", "1800", 15, 15), ("2131", "2131", 15, 15),  # JCB, older 15-digit cards
    ("62", "62", 16, 19), ("81", "81", 16, 19),  # UnionPay
    ("5018", "5018", 12, 19), ("5020", "5020", 12, 19), ("5038", "5038", 12, 19), ("5893", "5893", 12, 19),
    ("6304", "6304", 12, 19), ("6759", "6759", 12, 19), ("6761", "6763", 12, 19),  # Maestro
    ("50", "50", 12, 19), ("56", "69", 12, 19),  # Maestro's wider range and other domestic schemes
    ("2200", "2204", 16, 19),  # Mir
    ("9792", "9792", 16, 16),  # Troy
)  # fmt: skip


def card_brand_ok(digits: str) -> bool:
    """True when the number's issuer prefix belongs to a card scheme that issues numbers of its length."""
    n = len(digits)
    for first, last, shortest, longest in CARD_RANGES:
        if shortest <= n <= longest and first <= digits[: len(first)] <= last:
            return True
    return False


def iban_ok(compact: str) -> bool:
    """True when `compact` (upper case, no spaces) has its country's length and passes mod-97."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(char, 36)) for char in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def isikukood_ok(code: str) -> bool:
    """Estonian personal code: GYYMMDDSSSC with a century digit, a real date and a two-pass mod-11 check."""
    if len(code) != 11 or not code.isdigit() or code[0] not in "123456":
        return False
    century = 1800 + 100 * ((int(code[0]) - 1) // 2)
    if not _date_ok(century + int(code[1:3]), int(code[3:5]), int(code[5:7])):
        return False
    digits = [int(char) for char in code]
    for weights in ((1, 2, 3, 4, 5, 6, 7, 8, 9, 1), (3, 4, 5, 6, 7, 8, 9, 1, 2, 3)):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if remainder < 10:
            return remainder == digits[10]
    return digits[10] == 0


def pesel_ok(code: str) -> bool:
    """Polish PESEL: YYMMDD with the century folded into the month, and a weighted mod-10 check."""
    if len(code) != 11 or not code.isdigit():
        return False
    month = int(code[2:4])
    century = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}[month // 20]
    if not _date_ok(century + int(code[:2]), month % 20, int(code[4:6])):
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    total = sum(int(char) * w for char, w in zip(code, weights, strict=False))
    return (10 - total % 10) % 10 == int(code[10])


_HETU_CENTURIES = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900}
_HETU_CENTURIES.update(dict.fromkeys("ABCDEF", 2000))
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu_ok(code: str) -> bool:
    """Finnish HETU: DDMMYY, a century sign, an individual number and a mod-31 check character."""
    code = code.upper()
    if len(code) != 11 or code[6] not in _HETU_CENTURIES or not (code[:6] + code[7:10]).isdigit():
        return False
    year = _HETU_CENTURIES[code[6]] + int(code[4:6])
    if not _date_ok(year, int(code[2:4]), int(code[:2])) or int(code[7:10]) < 2:
        return False
    return _HETU_CHECK[int(code[:6] + code[7:10]) % 31] == code[10]


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(code: str) -> bool:
    """Spanish DNI: eight digits and the letter for their value mod 23."""
    code = code.upper().replace("-", "")
    return len(code) == 9 and code[:8].isdigit() and _DNI_LETTERS[int(code[:8]) % 23] == code[8]


def nie_ok(code: str) -> bool:
    """Spanish NIE: X/Y/Z (read as 0/1/2), seven digits, and the DNI letter of that number."""
    code = code.upper().replace("-", "")
    if len(code) != 9 or code[0] not in "XYZ":
        return False
    return dni_ok(str("XYZ".index(code[0])) + code[1:])


# Widely published sample numbers (Woolworth's wallet card, textbook examples): not a person's number.
_SAMPLE_SSNS = frozenset({"078051120", "219099999", "123456789", "457555462"})


def ssn_ok(digits: str) -> bool:
    """US SSN has no checksum; reject the never-issued areas, groups and serials, and famous samples."""
    if len(digits) != 9 or not digits.isdigit() or digits in _SAMPLE_SSNS:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_ok(compact: str) -> bool:
    """UK NINO: two letters from the allocated set, six digits, and a suffix A to D."""
    compact = compact.upper()
    if len(compact) != 9 or not compact[2:8].isdigit() or compact[8] not in "ABCD":
        return False
    first, second = compact[0], compact[1]
    if first in "DFIQUV" or second in "DFIOQUV" or compact[:2] in _NINO_BAD_PREFIXES:
        return False
    return first.isalpha() and second.isalpha()
