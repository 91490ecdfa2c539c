"""Vendor API keys and credentialed URLs, taken from maintained rule sets rather than a hand list.

Source of most patterns: the plugins of detect-secrets (Yelp, Apache-2.0), imported at run time so an
upgrade of that package brings its new and corrected patterns. Each plugin pattern is anchored at word
boundaries here, because a chat message is prose, not a config line.

Formats detect-secrets has no plugin for are written from the vendors' own documentation of their token
prefixes, in the shape gitleaks' rule list (MIT) uses for them: Netlify (`nfp_`, `nfc_`, … and legacy
40-46 character tokens next to the word "netlify"), HubSpot (`pat-na1-…` private-app tokens and legacy
UUID keys next to "hubspot"/"hapikey"), Buildkite (`bkua_`), npm (`npm_`), AWS AppSync (`da2-`) and
legacy GitLab tokens (20 characters next to "gitlab").
"""

from __future__ import annotations

import re

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from chatkeep.guards.pii.match import PiiMatch, PiiRule, whole

_PLUGINS: tuple[tuple[str, list[re.Pattern[str]]], ...] = (
    ("azure_storage_key", list(AzureStorageKeyDetector.denylist)),
    ("twilio_key", list(TwilioKeyDetector.denylist)),
    ("gitlab_token", list(GitLabTokenDetector.denylist)),
    ("sendgrid_key", list(SendGridDetector.denylist)),
    ("npm_token", list(NpmDetector.denylist)),
    ("pypi_token", list(PypiTokenDetector.denylist)),
    ("discord_token", list(DiscordBotTokenDetector.denylist)),
    ("telegram_token", list(TelegramBotTokenDetector.denylist)),
    ("mailchimp_key", list(MailchimpDetector.denylist)),
    ("square_token", list(SquareOAuthDetector.denylist)),
    ("artifactory_token", list(ArtifactoryDetector.denylist)),
)


def _anchored(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The plugin's pattern, not starting or ending inside a longer word."""
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{pattern.pattern})(?![A-Za-z0-9])", pattern.flags)


def _near(words: str, token: str) -> re.Pattern[str]:
    """`token` within a few characters after one of `words` (a key name, a label or a sentence)."""
    return re.compile(rf"(?i:{words})[\w\s\"'.:=/\-]{{0,32}}?(?<![A-Za-z0-9_\-])({token})(?![A-Za-z0-9_\-])")


_URL_PASSWORD = BasicAuthDetector.denylist[0]
_URL = re.compile(rf"(?<![\w+.\-])[A-Za-z][A-Za-z0-9+.\-]{{1,30}}{_URL_PASSWORD.pattern}[^\s/'\"<>]+")
_NOT_PASSWORDS = frozenset({"password", "pass", "passwd", "pwd", "secret", "pw", "xxx", "***", "changeme"})


def _credentialed_url(match: re.Match[str], _text: str) -> PiiMatch | None:
    password = match.group(1)
    user = match.group(0).split("://", 1)[1].split(":", 1)[0]
    if password.lower() in _NOT_PASSWORDS or password == user or set(password) <= set("*x.<>{}$"):
        return None  # documentation placeholders and compose-file defaults
    if password.startswith(("<", "{", "$", "%(")):
        return None  # templates: <password>, {password}, ${DB_PASS}
    return PiiMatch("credentialed_url", match.start(), match.end())


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

VENDOR_RULES: tuple[PiiRule, ...] = (
    *(
        PiiRule(_anchored(pattern), whole(category))
        for category, patterns in _PLUGINS
        for pattern in patterns
    ),
    PiiRule(re.compile(r"(?<![A-Za-z0-9_])nf[pcoub]_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), whole("netlify_token")),
    PiiRule(_near("netlify", r"[A-Za-z0-9_=\-]{40,46}"), whole("netlify_token", 1), needles=("netlify",)),
    PiiRule(re.compile(rf"(?<![A-Za-z0-9])pat-(?:na|eu|ap)\d-{_UUID}(?![A-Za-z0-9])"), whole("hubspot_key")),
    PiiRule(_near("hubspot|hapikey", _UUID), whole("hubspot_key", 1), needles=("hubspot", "hapikey")),
    PiiRule(re.compile(r"(?<![A-Za-z0-9_])bkua_[a-f0-9]{40}(?![A-Za-z0-9])"), whole("buildkite_token")),
    PiiRule(_near("buildkite", r"[a-f0-9]{40}"), whole("buildkite_token", 1), needles=("buildkite",)),
    PiiRule(re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), whole("npm_token")),
    PiiRule(re.compile(r"(?<![A-Za-z0-9_\-])da2-[a-z0-9]{26}(?![A-Za-z0-9])"), whole("aws_appsync_key")),
    PiiRule(_near("gitlab", r"[A-Za-z0-9_\-]{20}"), whole("gitlab_token", 1), needles=("gitlab",)),
    PiiRule(_URL, _credentialed_url, needles=("://",)),
)
