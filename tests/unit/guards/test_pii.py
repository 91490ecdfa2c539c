"""PII and secret detection: each category found where it should be and nowhere else."""

from __future__ import annotations

import itertools

import pytest

from chatkeep.guards.categories import PII_CATEGORIES
from chatkeep.guards.pii import detect_pii
from chatkeep.guards.pii.checksums import card_brand_ok, luhn_ok
from chatkeep.guards.pii.personal_data import TEST_CARDS

PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7Qk"


def categories(text: str) -> set[str]:
    return {match.category for match in detect_pii(text)}


def found(text: str) -> list[tuple[str, str]]:
    return [(match.category, text[match.start : match.end]) for match in detect_pii(text)]


@pytest.mark.parametrize(
    ("text", "category", "value"),
    [
        ("write to maria.koskinen@hotmail.fi today", "email", "maria.koskinen@hotmail.fi"),
        ("call +372 5123 4567 later", "phone", "+372 5123 4567"),
        ("phone (415) 555-0132", "phone", "(415) 555-0132"),
        ("office tel: 020 7946 0958", "phone", "020 7946 0958"),
        ("card 4526 0181 5908 3012 exp", "payment_card", "4526 0181 5908 3012"),
        ("card 5378-6579-7543-2311", "payment_card", "5378-6579-7543-2311"),
        ("stripe test 4242 4242 4242 4242", "test_payment_card", "4242 4242 4242 4242"),
        ("pay DE12 0139 6245 9571 1777 74 now", "iban", "DE12 0139 6245 9571 1777 74"),
        ("account NL29ABNA3888539336.", "iban", "NL29ABNA3888539336"),
        ("server 84.50.12.7 is down", "ip_address", "84.50.12.7"),
        ("v6 2a01:4f8:c17:1a2::1 please", "ip_address", "2a01:4f8:c17:1a2::1"),
        ("SSN 558-27-7826", "us_ssn", "558-27-7826"),
        ("my ssn is 558277826", "us_ssn", "558277826"),
        ("NINO JG 10 37 82 A", "uk_nino", "JG 10 37 82 A"),
        ("isikukood 46103166336", "ee_isikukood", "46103166336"),
        ("PESEL 65040906910", "pl_pesel", "65040906910"),
        ("hetu 150689-5197", "fi_hetu", "150689-5197"),
        ("DNI 74160948R", "es_dni", "74160948R"),
        ("NIE Z9778001Q", "es_nie", "Z9778001Q"),
        ("key AKIA4HZQ7T2XK9LMB3PD", "aws_access_key", "AKIA4HZQ7T2XK9LMB3PD"),
        (
            "gh ghp_R8kT2mQ9vX4nL7pW1sY6zA3bC5dE0fG2hJ4k",
            "github_token",
            "ghp_R8kT2mQ9vX4nL7pW1sY6zA3bC5dE0fG2hJ4k",
        ),
        ("glpat-Ab3dEf6hIj9kLm2nOp5q", "gitlab_token", "glpat-Ab3dEf6hIj9kLm2nOp5q"),
        ("xoxb-2048391056-4410927735-AbCdEfGhIjKl", "slack_token", "xoxb-2048391056-4410927735-AbCdEfGhIjKl"),
        ("sk_live_51HxYzAbCdEfGh12345678", "stripe_key", "sk_live_51HxYzAbCdEfGh12345678"),
        ("sk_test_51HxYzAbCdEfGh12345678", "test_credential", "sk_test_51HxYzAbCdEfGh12345678"),
        (
            "sk-proj-Tq8vN2mX5kL9wR3pZ7bY1cD4fG6hJ0sA",
            "openai_key",
            "sk-proj-Tq8vN2mX5kL9wR3pZ7bY1cD4fG6hJ0sA",
        ),
        (
            "sk-ant-api03-Zx9Qw2Er5Ty8Ui1Op4As7Df0Gh3J",
            "anthropic_key",
            "sk-ant-api03-Zx9Qw2Er5Ty8Ui1Op4As7Df0Gh3J",
        ),
        (
            "AIzaSyD4kR8mN2qX7vB1pL5wT9zC3fH6jG0sE2y",
            "google_api_key",
            "AIzaSyD4kR8mN2qX7vB1pL5wT9zC3fH6jG0sE2y",
        ),
        (
            "api_key = 'a8f5f167f44f4964e6c998dee827110c'",
            "generic_api_key",
            "a8f5f167f44f4964e6c998dee827110c",
        ),
        ("password: Tr0ub4dor&3 ok", "password", "Tr0ub4dor&3"),
        ("the password is hunter2! ok", "password", "hunter2!"),
        ("AKIAIOSFODNN7EXAMPLE", "test_credential", "AKIAIOSFODNN7EXAMPLE"),
        ("POSTGRES_PASSWORD=S3cret!2024", "password", "S3cret!2024"),
        ("MY_SERVICE_API_KEY=ab12cd34ef56gh78ij90", "generic_api_key", "ab12cd34ef56gh78ij90"),
    ],
)
def test_category_detected_with_exact_span(text: str, category: str, value: str) -> None:
    assert (category, value) in found(text)


def test_database_url_with_password_is_one_finding_even_with_an_ip_inside() -> None:
    text = "mysql://root:S3cure!Pass@10.1.2.3:3306/shop"
    assert categories(text) == {"database_url"}


def test_bearer_token_reports_the_token_not_the_jwt_inside() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU"
    assert categories(f"Authorization: Bearer {jwt}") == {"bearer_token"}
    assert categories(f"token {jwt}") == {"jwt"}


def test_private_key_block_and_truncated_paste() -> None:
    block = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
    assert found(f"key:\n{block}\nthanks") == [("private_key", block)]
    truncated = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n(rest missing)"
    assert categories(truncated) == {"private_key"}


@pytest.mark.parametrize(
    "text",
    [
        "Order number 4111 2222 3333 4444 is late",  # fails Luhn
        "Invoice 4236 6712 7684 2688 paid twice",  # fails Luhn
        "ticket 5078666617603136",  # fails Luhn
        "IBAN DE12 0139 6245 9571 1777 75 is rejected",  # fails mod-97
        "upgrade to version 10.0.0.1 now",
        "python 3.11.7 and nginx release 1.25.3.1",
        "loopback 127.0.0.1 and docs 192.0.2.10 and 2001:db8::1",
        "git show 3f786850e387550fdab836ed7e6dc881de23001b",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "regex for name@example.com",
        "push to git@github.com:acme/reports.git",
        "icon@2x.png is blurry",
        "password = os.environ['DB_PASSWORD']",
        "api_key: ${OPENAI_API_KEY}",
        "postgres://user:password@localhost:5432/mydb",
        "postgres://postgres:postgres@db:5432/app",
        "-----BEGIN RSA PRIVATE KEY----- ... -----END RSA PRIVATE KEY-----",
        "Bearer YOUR_ACCESS_TOKEN_HERE",
        "std::vector<int> v; a::b",
        "meeting on 2024-05-13 at 14:30 in room 4.12",
        "PWD=/home/me/project",
        "password: required",
        "PASSWORD_MIN_LENGTH=12",
        "POSTGRES_PASSWORD=postgres",
        "bypass=1234567",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "order 555-123-4567 shipped",  # national phone format, but no phone word nearby
    ],
)
def test_lookalikes_are_not_pii(text: str) -> None:
    assert detect_pii(text) == []


def test_matches_are_ordered_and_do_not_overlap() -> None:
    text = "a@acme.io 4526 0181 5908 3012 +372 5123 4567 b@acme.io"
    matches = detect_pii(text)
    assert [m.start for m in matches] == sorted(m.start for m in matches)
    assert all(left.end <= right.start for left, right in itertools.pairwise(matches))


def test_every_category_has_a_family_and_display_name() -> None:
    for name, info in PII_CATEGORIES.items():
        assert info.name == name
        assert info.family and info.display


def test_every_listed_test_card_is_a_valid_card_number() -> None:
    # A listed number that failed Luhn would never be matched, so its entry would be dead.
    assert all(luhn_ok(card) and card_brand_ok(card) for card in TEST_CARDS)
    assert {m.category for m in detect_pii(" ".join(sorted(TEST_CARDS)))} == {"test_payment_card"}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("número 699 956 915, gracias", "phone"),  # Spanish national grouping, no cue word
        ("ring +44 7700 900123 now", "phone"),
        ("my card 503891417779 please", "payment_card"),  # 12-digit Maestro
        ("card 180031706690747", "payment_card"),  # 15-digit JCB 1800
        ("NETLIFY_AUTH_TOKEN nfp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "netlify_token"),
        ("hubspot key pat-na1-1b4e28ba-2fa1-11d2-883f-0016d3cca427", "hubspot_key"),
        ("AccountKey=" + "A" * 40 + "b" * 46 + "==;EndpointSuffix=core.windows.net", "azure_storage_key"),
        ("twilio AC" + "0123456789abcdef" * 2, "twilio_key"),
        ("BUILDKITE_TOKEN=bkua_" + "0a1b2c3d4e" * 4, "buildkite_token"),
        ("appsync x-api-key da2-abcdefghijklmnopqrstuvwxyz", "aws_appsync_key"),
        ("gitlab token: Ab3dEf6hIj9kLm2nOp5q", "gitlab_token"),
        ("ftp://deploy:S3cr3t%21x@files.acme-corp.io/in", "credentialed_url"),
        (
            '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"}',
            "private_key",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHC", "private_key"),  # truncated paste
    ],
)
def test_maintained_sources_find_more_kinds(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order #060406728448 shipped",
        "released 2024-05-13T14:30:12.123456 as version 3.12.1",
        "EAN 4006381333931 on the box",
        "see https://user:password@example.net/docs for the URL format",
        "postgres://app:${DB_PASSWORD}@db:5432/app",
    ],
)
def test_no_false_alarm_on_look_alikes(text: str) -> None:
    assert categories(text) == set()
