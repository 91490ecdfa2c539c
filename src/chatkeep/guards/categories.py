"""The names of everything the guards can report, grouped into families a policy can address at once."""

from __future__ import annotations

from dataclasses import dataclass

from chatkeep.guards.severity import Severity


@dataclass(frozen=True, slots=True)
class PiiCategory:
    """One kind of personal data or secret: its family, default severity and the words shown to users."""

    name: str
    family: str
    severity: Severity
    display: str


_C, _H, _M, _L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

PII_CATEGORIES: dict[str, PiiCategory] = {
    c.name: c
    for c in (
        PiiCategory("email", "email", _L, "email"),
        PiiCategory("phone", "phone", _M, "phone number"),
        PiiCategory("payment_card", "payment_card", _H, "payment card"),
        # Published test numbers (Stripe, Adyen, …) are not anyone's card; reported so reviewers see them.
        PiiCategory("test_payment_card", "payment_card", _L, "test payment card"),
        PiiCategory("iban", "iban", _H, "IBAN"),
        PiiCategory("ip_address", "ip_address", _L, "IP address"),
        PiiCategory("us_ssn", "national_id", _H, "US social security number"),
        PiiCategory("uk_nino", "national_id", _H, "UK national insurance number"),
        PiiCategory("ee_isikukood", "national_id", _H, "Estonian personal code"),
        PiiCategory("fi_hetu", "national_id", _H, "Finnish personal identity code"),
        PiiCategory("es_dni", "national_id", _H, "Spanish DNI"),
        PiiCategory("es_nie", "national_id", _H, "Spanish NIE"),
        PiiCategory("pl_pesel", "national_id", _H, "Polish PESEL"),
        PiiCategory("aws_access_key", "api_key", _C, "AWS access key"),
        PiiCategory("aws_secret_key", "api_key", _C, "AWS secret key"),
        PiiCategory("github_token", "api_key", _C, "GitHub token"),
        PiiCategory("gitlab_token", "api_key", _C, "GitLab token"),
        PiiCategory("slack_token", "api_key", _C, "Slack token"),
        PiiCategory("slack_webhook", "api_key", _C, "Slack webhook"),
        PiiCategory("stripe_key", "api_key", _C, "Stripe key"),
        PiiCategory("openai_key", "api_key", _C, "OpenAI key"),
        PiiCategory("anthropic_key", "api_key", _C, "Anthropic key"),
        PiiCategory("google_api_key", "api_key", _C, "Google API key"),
        PiiCategory("generic_api_key", "api_key", _H, "API key"),
        # Vendor formats from detect-secrets' plugins and from the vendors' published token prefixes.
        PiiCategory("azure_storage_key", "api_key", _C, "Azure Storage key"),
        PiiCategory("twilio_key", "api_key", _C, "Twilio key"),
        PiiCategory("sendgrid_key", "api_key", _C, "SendGrid key"),
        PiiCategory("npm_token", "api_key", _C, "npm token"),
        PiiCategory("pypi_token", "api_key", _C, "PyPI token"),
        PiiCategory("discord_token", "api_key", _C, "Discord token"),
        PiiCategory("telegram_token", "api_key", _C, "Telegram bot token"),
        PiiCategory("mailchimp_key", "api_key", _C, "Mailchimp key"),
        PiiCategory("square_token", "api_key", _C, "Square token"),
        PiiCategory("artifactory_token", "api_key", _C, "Artifactory token"),
        PiiCategory("netlify_token", "api_key", _C, "Netlify token"),
        PiiCategory("hubspot_key", "api_key", _C, "HubSpot key"),
        PiiCategory("buildkite_token", "api_key", _C, "Buildkite token"),
        PiiCategory("aws_appsync_key", "api_key", _C, "AWS AppSync key"),
        # Documentation keys (AWS's AKIA…EXAMPLE) and Stripe test-mode keys: visible, not a leak.
        PiiCategory("test_credential", "api_key", _L, "test credential"),
        PiiCategory("password", "credential", _H, "password"),
        PiiCategory("database_url", "credential", _H, "database URL with password"),
        PiiCategory("credentialed_url", "credential", _H, "URL with password"),
        PiiCategory("jwt", "credential", _H, "JWT"),
        PiiCategory("bearer_token", "credential", _H, "bearer token"),
        PiiCategory("private_key", "private_key", _C, "private key"),
    )
}

PII_FAMILIES: frozenset[str] = frozenset(c.family for c in PII_CATEGORIES.values())

FAMILY_DISPLAY: dict[str, str] = {
    "email": "email",
    "phone": "phone number",
    "payment_card": "payment card",
    "iban": "IBAN",
    "ip_address": "IP address",
    "national_id": "national ID",
    "api_key": "API key",
    "credential": "credential",
    "private_key": "private key",
}

INJECTION_CATEGORIES: frozenset[str] = frozenset(
    {
        "instruction_override",
        "prompt_extraction",
        "jailbreak",
        "delimiter_injection",
        "encoded_payload",
        "authority_claim",
        # No rule matched, but the learned classifier reads the message as an attack.
        "suspected_injection",
        # Not an attack: the text was longer than the scan limit, so its tail was not looked at.
        "unscanned_text",
        # Not an attack either: the guard itself failed, and a failed guard must not let text through.
        "guard_error",
    }
)
