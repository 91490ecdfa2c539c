"""Recover text an attacker hid from a reader: base64 and hex blobs, Unicode tag characters, reversed words.

Each recovered text is scanned by the same injection rules; instructions found there are reported as an
encoded payload. Blobs are decoded only when they turn into readable text, so commit SHAs, UUIDs,
images and key material (which decode to bytes, not words) are never mistaken for instructions.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

# No look-arounds: a pattern that starts with a character class lets the engine skip ahead quickly, and
# greedy matching from the left already starts every match at the beginning of its run.
# Also finds compact hex (decoded as hex) and base64 wrapped over several lines (MIME wraps at 76).
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{16,}(?:\r?\n[A-Za-z0-9+/_\-]{16,})*={0,2}")
_SPACED_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}[ :]){11,}[0-9A-Fa-f]{2}(?![0-9A-Za-z])")
_ESCAPED_HEX = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}")
_TAG_RUN = re.compile("[\U000e0020-\U000e007e]{4,}")
# Reversed spellings of the words nearly every override uses; cheap to look for, rare in honest text.
_REVERSED_MARKERS = ("snoitcurtsni", "erongi", "dragersid", "tpmorp metsys")

# There is no limit on the number or length of blobs: a limit is a place to hide a payload behind
# (1,001 decoys, or one blob longer than the limit). The work is bounded by the scan budget instead: the
# blobs of one pattern never overlap, so decoding reads each scanned character a few times at most.


def hidden_texts(text: str, normalised: str) -> Iterator[str]:
    """Yield every readable text hidden in `text` (`normalised` is its normalised view)."""
    if not text.isascii() and max(text) >= "\U000e0020":
        for run in _TAG_RUN.findall(text):
            yield "".join(chr(ord(char) - 0xE0000) for char in run)
    for match in _iter_blobs(text):
        decoded = _decode(match.group(0))
        if decoded is None:
            continue
        if _is_readable(decoded):
            yield decoded
        elif (inner := _BASE64.fullmatch(decoded.strip())) is not None:
            # One more layer: base64 of base64 is a common way past a single decode.
            again = _decode(inner.group(0))
            if again is not None and _is_readable(again):
                yield again
    if any(marker in normalised for marker in _REVERSED_MARKERS):
        yield normalised[::-1]


def _iter_blobs(text: str) -> Iterator[re.Match[str]]:
    if "\\x" in text:
        yield from _ESCAPED_HEX.finditer(text)
    yield from _SPACED_HEX.finditer(text)
    yield from _BASE64.finditer(text)


def _decode(blob: str) -> str | None:
    """The blob decoded to text, or None when it decodes to bytes that are not text."""
    raw = _decode_bytes(blob)
    if raw is None:
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return decoded if decoded.isprintable() or _mostly_printable(decoded) else None


def _decode_bytes(blob: str) -> bytes | None:
    blob = blob.replace("\r", "").replace("\n", "")
    compact = blob.replace("\\x", "").replace(" ", "").replace(":", "")
    if len(compact) % 2 == 0 and all(char in "0123456789abcdefABCDEF" for char in compact):
        return bytes.fromhex(compact)
    padded = blob + "=" * (-len(blob) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None


def _mostly_printable(decoded: str) -> bool:
    printable = sum(1 for char in decoded if char.isprintable() or char in "\n\t")
    return printable / max(1, len(decoded)) >= 0.95


def _is_readable(decoded: str) -> bool:
    """Text an LLM would read as instructions: several words, not a bare token."""
    return len(decoded) >= 8 and decoded.count(" ") >= 2
