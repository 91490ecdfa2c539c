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

from chatkeep.guards.injection.required_literals import required_literals
from chatkeep.guards.pii.match import Classifier, PiiMatch, PiiRule, whole

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


def _anchored(pattern: re.Pattern[str] | str) -> re.Pattern[str]:
    """The pattern, not ending inside a longer word (the start is checked by `_token`).

    No look-behind at the front: a pattern that starts with a literal lets the regex engine skip ahead
    quickly, which matters because these rules have no needles and run over the whole text.
    """
    source, flags = (pattern.pattern, pattern.flags) if isinstance(pattern, re.Pattern) else (pattern, 0)
    return re.compile(rf"(?:{source})(?![A-Za-z0-9])", flags)


def _token(category: str, group: int = 0) -> Classifier:
    """Report `group` unless the match starts inside a longer word."""

    def classify(match: re.Match[str], text: str) -> PiiMatch | None:
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            return None
        return PiiMatch(category, match.start(group), match.end(group))

    return classify


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


def _plugin_rule(category: str, pattern: re.Pattern[str]) -> PiiRule:
    """A detect-secrets pattern as a rule, with needles derived from it where it has literal parts."""
    literals = required_literals(pattern.pattern, pattern.flags)
    needles = tuple(sorted(literal.lower() for literal in literals)) if literals else ()
    return PiiRule(_anchored(pattern), _token(category), needles=needles)


VENDOR_RULES: tuple[PiiRule, ...] = (
    *(_plugin_rule(category, pattern) for category, patterns in _PLUGINS for pattern in patterns),
    PiiRule(_anchored(r"nf[pcoub]_[A-Za-z0-9]{36}"), _token("netlify_token")),
    PiiRule(_near("netlify", r"[A-Za-z0-9_=\-]{40,46}"), whole("netlify_token", 1), needles=("netlify",)),
    PiiRule(_anchored(rf"pat-(?:na|eu|ap)\d-{_UUID}"), _token("hubspot_key"), needles=("pat-",)),
    PiiRule(_near("hubspot|hapikey", _UUID), whole("hubspot_key", 1), needles=("hubspot", "hapikey")),
    PiiRule(_anchored(r"bkua_[a-f0-9]{40}"), _token("buildkite_token"), needles=("bkua_",)),
    PiiRule(_near("buildkite", r"[a-f0-9]{40}"), whole("buildkite_token", 1), needles=("buildkite",)),
    PiiRule(_anchored(r"npm_[A-Za-z0-9]{36}"), _token("npm_token"), needles=("npm_",)),
    PiiRule(_anchored(r"da2-[a-z0-9]{26}"), _token("aws_appsync_key"), needles=("da2-",)),
    PiiRule(_near("gitlab", r"[A-Za-z0-9_\-]{20}"), whole("gitlab_token", 1), needles=("gitlab",)),
    PiiRule(_URL, _credentialed_url, needles=("://",)),
)
