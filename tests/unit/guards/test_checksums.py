"""Check-digit validators: real identifiers pass, one changed digit fails."""

from __future__ import annotations

import pytest

from chatkeep.guards.pii import checksums


@pytest.mark.parametrize(
    ("check", "valid", "invalid"),
    [
        (checksums.luhn_ok, "4526018159083012", "4526018159083013"),
        (checksums.luhn_ok, "379711471049747", "379711471049748"),
        (checksums.iban_ok, "DE12013962459571177774", "DE12013962459571177775"),
        (checksums.iban_ok, "GB82WEST12345698765432", "GB82WEST12345698765433"),
        (checksums.iban_ok, "NL29ABNA3888539336", "NL29ABNA3888539337"),
        (checksums.isikukood_ok, "46103166336", "46103166337"),
        (checksums.pesel_ok, "65040906910", "65040906911"),
        (checksums.hetu_ok, "150689-5197", "150689-5198"),
        (checksums.dni_ok, "74160948R", "74160948S"),
        (checksums.nie_ok, "Z9778001Q", "Z9778001R"),
        (checksums.ssn_ok, "558277826", "000277826"),
        (checksums.nino_ok, "JG103782A", "JG103782E"),
    ],
)
def test_valid_identifier_passes_and_altered_one_fails(check, valid: str, invalid: str) -> None:
    assert check(valid)
    assert not check(invalid)


def test_iban_with_wrong_length_for_its_country_fails() -> None:
    assert not checksums.iban_ok("DE1201396245957117777")  # 21 characters; Germany uses 22


def test_isikukood_needs_a_real_date() -> None:
    assert not checksums.isikukood_ok("46113166336")  # month 13


def test_pesel_encodes_the_century_in_the_month() -> None:
    assert checksums.pesel_ok("02270810006")  # born 2002-07-08 (month 27 = July of the 2000s)
    assert not checksums.pesel_ok("02470810006")


def test_ssn_rejects_never_issued_areas_and_famous_samples() -> None:
    for number in ("666123456", "900123456", "123450000", "078051120", "123456789"):
        assert not checksums.ssn_ok(number)


def test_nino_rejects_unallocated_prefixes() -> None:
    for code in ("GB123456A", "QQ123456A", "AO123456A"):
        assert not checksums.nino_ok(code)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("4111111111111111", True), ("5105105105105100", True), ("1234567812345678", False)],
)
def test_card_brand_prefixes(digits: str, expected: bool) -> None:
    assert checksums.card_brand_ok(digits) is expected
