"""The organisation policy: defaults, lookup order, validation and JSON round trip."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chatkeep.guards import DetectorPolicy, GuardPolicy, Severity


def test_default_policy_maps_families_and_severities() -> None:
    policy = GuardPolicy.default()
    pii = policy.pii
    assert pii.action_for("github_token", Severity.CRITICAL, "api_key") == "block"
    assert pii.action_for("password", Severity.HIGH, "credential") == "block"
    assert pii.action_for("private_key", Severity.CRITICAL, "private_key") == "block"
    assert pii.action_for("iban", Severity.HIGH, "iban") == "redact"
    assert pii.action_for("fi_hetu", Severity.HIGH, "national_id") == "redact"
    assert pii.action_for("phone", Severity.MEDIUM, "phone") == "redact"
    assert pii.action_for("email", Severity.LOW, "email") == "flag"
    assert pii.action_for("test_payment_card", Severity.LOW, "payment_card") == "flag"
    assert pii.action_for("test_credential", Severity.LOW, "api_key") == "flag"
    injection = policy.injection
    assert [injection.action_for("jailbreak", severity) for severity in Severity] == [
        "none",
        "flag",
        "flag",
        "block",
        "block",
    ]


def test_lookup_order_is_category_then_family_then_severity() -> None:
    policy = DetectorPolicy(
        categories={"iban": "flag", "national_id": "block"},
        severities={Severity.HIGH: "redact"},
    )
    assert policy.action_for("iban", Severity.HIGH, "iban") == "flag"
    assert policy.action_for("es_dni", Severity.HIGH, "national_id") == "block"
    assert policy.action_for("payment_card", Severity.HIGH, "payment_card") == "redact"
    assert policy.action_for("email", Severity.LOW, "email") == "none"


def test_policy_round_trips_through_json() -> None:
    policy = GuardPolicy.default()
    stored = json.loads(json.dumps(policy.model_dump(mode="json")))
    assert stored["injection"]["severities"]["high"] == "block"
    assert GuardPolicy.model_validate(stored) == policy


def test_org_config_replaces_only_the_sections_it_gives() -> None:
    policy = GuardPolicy.model_validate(
        {"injection": {"severities": {"medium": "block"}}, "max_scan_chars": 8000}
    )
    assert policy.injection.action_for("jailbreak", Severity.MEDIUM) == "block"
    assert policy.injection.action_for("jailbreak", Severity.HIGH) == "none"
    assert policy.pii == GuardPolicy.default().pii
    assert policy.max_scan_chars == 8000


@pytest.mark.parametrize(
    "config",
    [
        {"pii": {"categories": {"emial": "flag"}}},
        {"injection": {"categories": {"iban": "block"}}},
        {"injection": {"severities": {"high": "redact"}}},
        {"injection": {"categories": {"jailbreak": "redact"}}},
        {"pii": {"categories": {"email": "delete"}}},
        {"pii": {"severities": {"extreme": "block"}}},
        {"max_scan_chars": 10},
        {"surprise": True},
    ],
)
def test_invalid_org_config_is_rejected(config: dict) -> None:
    with pytest.raises(ValidationError):
        GuardPolicy.model_validate(config)


def test_policy_is_immutable() -> None:
    policy = GuardPolicy.default()
    with pytest.raises(ValidationError):
        policy.max_scan_chars = 5  # type: ignore[misc]
