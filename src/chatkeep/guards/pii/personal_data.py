"""Rules for personal data: emails, phone numbers, payment cards, IBANs, IP addresses and national IDs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from chatkeep.guards.pii import checksums
from chatkeep.guards.pii.match import Classifier, PiiMatch, PiiRule, context_before
from chatkeep.guards.pii.phones import PHONE_CANDIDATE, phone_match

# --- email -------------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))\b"
)
# RFC 2606 names exist to be written in examples; nobody receives mail there.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local"})
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp"})  # retina assets: icon@2x.png
_GIT_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org"})


def _email(match: re.Match[str], _text: str) -> PiiMatch | None:
    domain, tld = match.group(1).lower(), match.group(2).lower()
    if tld in _RESERVED_TLDS or tld in _NOT_TLDS or domain.endswith(_EXAMPLE_DOMAINS):
        return None
    if domain in _GIT_HOSTS and match.group(0).lower().startswith("git@"):
        return None  # an SSH remote, not a mailbox
    return PiiMatch("email", match.start(), match.end())


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


# --- payment cards -----------------------------------------------------------------------------------

_CARD = re.compile(r"\d(?<![\w\-.+:]\d)(?:[ \-]?\d){11,18}(?![\d\-]\d|\.\d)")
# Numbers the card schemes and payment providers publish for testing; decision: report as low severity.
TEST_CARDS = frozenset(
    {
        "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556", "4222222222222",
        "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "5454545454545454",
        "378282246310005", "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
        "3566002020360505", "3530111333300000", "30569309025904", "38520000023237", "6200000000000005",
        "4000000000000002", "4000000000009995", "4000002500003155", "4000000000003220",
    }
)  # fmt: skip


_NOT_CARD_WORDS = ("order", "invoice", "tracking", "ref", "ticket", "isbn", "ean", "sku", "serial")


def _card(match: re.Match[str], text: str) -> PiiMatch | None:
    raw = match.group(0)
    if " " in raw and "-" in raw:
        return None  # real card numbers are written with one kind of separator
    digits = _digits(raw)
    if not 12 <= len(digits) <= 19 or not checksums.luhn_ok(digits) or not checksums.card_brand_ok(digits):
        return None
    if len(digits) < 16 and context_before(text, match.start(), _NOT_CARD_WORDS, width=24):
        return None  # short numbers in the wide Maestro ranges are often order or invoice numbers
    category = "test_payment_card" if digits in TEST_CARDS else "payment_card"
    return PiiMatch(category, match.start(), match.end())


# --- IBAN --------------------------------------------------------------------------------------------

# Zero-width so that a failed candidate does not swallow a real IBAN that starts inside it.
_IBAN = re.compile(r"[A-Za-z](?<![A-Za-z0-9][A-Za-z])(?=([A-Za-z]\d{2}(?:[ \-]?[A-Za-z0-9]){10,30}))")


def _iban(match: re.Match[str], text: str) -> PiiMatch | None:
    candidate = match.group(0) + match.group(1)
    length = checksums.IBAN_LENGTHS.get(candidate[:2].upper())
    if length is None:
        return None
    taken, end = 0, 0
    for index, char in enumerate(candidate):
        if char.isalnum():
            taken += 1
            if taken == length:
                end = index + 1
                break
    if taken < length:
        return None
    after = match.start() + end
    if after < len(text) and text[after].isalnum():
        return None  # the run goes on: not an IBAN of this length
    compact = "".join(char for char in candidate[:end] if char.isalnum()).upper()
    return PiiMatch("iban", match.start(), after) if checksums.iban_ok(compact) else None


# --- IP addresses ------------------------------------------------------------------------------------

_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)")  # octets checked by ipaddress
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_WORDS = ("version", "release", "build", "firmware", "upgrade", "update to", "bump", "semver", "v.")
# Addresses that identify nobody: the RFC 5737 / RFC 3849 documentation ranges.
_DOC_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def _ip_is_anonymous(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if address.is_loopback or address.is_unspecified or address.is_link_local or address.is_multicast:
        return True
    return any(address.version == net.version and address in net for net in _DOC_NETWORKS)


def _ipv4(match: re.Match[str], text: str) -> PiiMatch | None:
    try:
        address = ipaddress.IPv4Address(match.group(0))
    except ValueError:
        return None  # an octet above 255 or with a leading zero
    if _ip_is_anonymous(address) or str(address) == "255.255.255.255":
        return None
    if context_before(text, match.start(), _VERSION_WORDS, width=24):
        return None
    return PiiMatch("ip_address", match.start(), match.end())


def _ipv6(match: re.Match[str], _text: str) -> PiiMatch | None:
    value = match.group(0)
    if sum(1 for group in value.split(":") if group) < 3:
        return None  # "a::b" and friends are more often code than addresses
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return None if _ip_is_anonymous(address) else PiiMatch("ip_address", match.start(), match.end())


# --- national identifiers ----------------------------------------------------------------------------

_SSN = re.compile(r"(\d{3})(?<![\w\-]\d{3})([\- ])(\d{2})\2(\d{4})(?![\w\-])")
_SSN_BARE = re.compile(r"\d{9}(?<![\w\-]\d{9})(?![\w\-])")
_NINO = re.compile(r"[A-Z]{2}(?<![A-Za-z0-9][A-Z]{2}) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])")
_ELEVEN_DIGITS = re.compile(r"\d{11}(?<![\w\-]\d{11})(?![\w\-])")
_HETU = re.compile(r"\d{6}(?<![\w\-+]\d{6})[\-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y](?![\w\-])")
_DNI = re.compile(r"\d{8}(?<![\w\-]\d{8})-?[A-Za-z](?![\w\-])")
_NIE = re.compile(r"[XYZxyz](?<![\w\-][XYZxyz])-?\d{7}-?[A-Za-z](?![\w\-])")
_SSN_WORDS = ("ssn", "social security", "social sec")


def _ssn(match: re.Match[str], _text: str) -> PiiMatch | None:
    ok = checksums.ssn_ok(match.group(1) + match.group(3) + match.group(4))
    return PiiMatch("us_ssn", match.start(), match.end()) if ok else None


def _ssn_bare(match: re.Match[str], text: str) -> PiiMatch | None:
    if not context_before(text, match.start(), _SSN_WORDS) or not checksums.ssn_ok(match.group(0)):
        return None
    return PiiMatch("us_ssn", match.start(), match.end())


def _checked(category: str, check: Callable[[str], bool]) -> Classifier:
    def classify(match: re.Match[str], _text: str) -> PiiMatch | None:
        return PiiMatch(category, match.start(), match.end()) if check(match.group(0)) else None

    return classify


def _eleven_digits(match: re.Match[str], _text: str) -> PiiMatch | None:
    code = match.group(0)
    for category, check in (("ee_isikukood", checksums.isikukood_ok), ("pl_pesel", checksums.pesel_ok)):
        if check(code):
            return PiiMatch(category, match.start(), match.end())
    return None


PERSONAL_DATA_RULES: tuple[PiiRule, ...] = (
    PiiRule(_EMAIL, _email, needles=("@",)),
    PiiRule(_CARD, _card, numeric=True),
    PiiRule(_IBAN, _iban),  # some BBANs are mostly letters: scanned everywhere
    PiiRule(_SSN, _ssn, numeric=True),
    PiiRule(_SSN_BARE, _ssn_bare, needles=_SSN_WORDS, numeric=True),
    PiiRule(
        _NINO, _checked("uk_nino", lambda value: checksums.nino_ok(value.replace(" ", ""))), numeric=True
    ),
    PiiRule(_ELEVEN_DIGITS, _eleven_digits, numeric=True),
    PiiRule(_HETU, _checked("fi_hetu", checksums.hetu_ok), numeric=True),
    PiiRule(_DNI, _checked("es_dni", checksums.dni_ok), numeric=True),
    PiiRule(_NIE, _checked("es_nie", checksums.nie_ok), numeric=True),
    PiiRule(PHONE_CANDIDATE, phone_match, numeric=True),
    PiiRule(_IPV4, _ipv4, needles=(".",), numeric=True),
    PiiRule(_IPV6, _ipv6, needles=(":",)),
)
