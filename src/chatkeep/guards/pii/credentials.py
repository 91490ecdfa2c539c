"""Rules for secrets: provider API keys, passwords, credentialed URLs, tokens and private keys."""

from __future__ import annotations

import re

from chatkeep.guards.pii.match import Classifier, PiiMatch, PiiRule, whole

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
# base64 lines, Proc-Type/DEK-Info headers, and the literal "\n" of a key inside JSON (service accounts)
_KEY_BODY = re.compile(r"[\sA-Za-z0-9+/=:,\\\-]*")
MAX_KEY_CHARS = 20_000
MIN_KEY_MATERIAL = 24


def _private_key(match: re.Match[str], text: str) -> PiiMatch | None:
    end_marker = _PRIVATE_KEY_END.search(text, match.end(), match.end() + MAX_KEY_CHARS)
    if end_marker is not None:
        body, end = text[match.end() : end_marker.start()], end_marker.end()
    else:  # a truncated paste: the key runs as far as key characters do
        body_match = _KEY_BODY.match(text, match.end())
        end = body_match.end() if body_match else match.end()
        body = text[match.end() : end]
    # A header around "..." is documentation; a real key, even a truncated paste, has key material.
    if sum(1 for char in body if char.isalnum()) < MIN_KEY_MATERIAL:
        return None
    return PiiMatch("private_key", match.start(), end)


_AWS_ACCESS_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])"
)
_AWS_SECRET_KEY = re.compile(
    r"(?i:aws_?secret_?(?:access_?)?key|aws secret(?: access)? key)[\"']?\s*[:=]?\s*[\"']?"
    r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_GITHUB = re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,255})(?!\w)")
_GITLAB = re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_\-]{20,}")
_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9])xox[abposre]-(?:\d+-)?[A-Za-z0-9\-]{10,}")
_SLACK_WEBHOOK = re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+")
# Publishable keys (pk_…) are public by design and not matched.
_STRIPE = re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(live|test)_[A-Za-z0-9]{16,}")
_ANTHROPIC = re.compile(r"(?<![A-Za-z0-9\-])sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{20,}")
_OPENAI = re.compile(r"(?<![A-Za-z0-9\-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?([A-Za-z0-9_\-]{20,})")
_GOOGLE = re.compile(r"(?<![A-Za-z0-9_\-])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])")
# The keyword may end an env-var name (POSTGRES_PASSWORD=…), hence no \b before it.
_GENERIC_KEY = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:api[_\-]?key|apikey|api[_\-]?token|access[_\-]?token|auth[_\-]?token|secret[_\-]?key"
    r"|client[_\-]?secret|private[_\-]?token|app[_\-]?secret|x-api-key)\b[\"']?\s*[:=]\s*[\"']?"
    r"([A-Za-z0-9_\-./+=]{16,})"
)
_PASSWORD_ASSIGNED = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:password|passwd|passwort|pwd|pass|passphrase)\b[\"']?\s*[:=]\s*[\"']?"
    r"([^\s\"'`,;]{6,})"
)
_PASSWORD_SAID = re.compile(
    r"(?i)\b(?:my|the|our)(?: \w+)? password (?:is|was)\s*:?\s*[\"']?([^\s\"'`,;]{6,})"
)
_DATABASE_URL = re.compile(
    r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle"
    r"|cockroachdb|clickhouse)(?:\+[a-z0-9]+)?://([^\s:/@'\"]+):([^\s@/'\"]+)@[^\s/'\"]+"
)
_JWT = re.compile(r"(?<![\w\-])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,}(?![\w\-])")
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{20,}=*)")

# Keys published in vendor documentation; a paste of them leaks nothing.
_DOCUMENTED_SECRETS = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2"
        "MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)
_PLACEHOLDER_WORDS = (
    "example", "placeholder", "your", "changeme", "change_me", "redacted", "xxxx", "****", "....", "dummy",
    "sample", "replace", "insert", "<", ">", "${", "{{", "%(", "$(", "env", "secret_here", "token_here",
)  # fmt: skip
_CODE_VALUE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[(\[]")


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS) or len(set(lowered)) <= 2


def _is_path(value: str) -> bool:
    return value.startswith(("/", "~", "./", "../")) or "://" in value


def _has_letter_and_digit(value: str) -> bool:
    return any(char.isdigit() for char in value) and any(char.isalpha() for char in value)


def _known_or(category: str, group: int = 0) -> Classifier:
    """Report `category`, or `test_credential` for a key its vendor published as an example."""

    def classify(match: re.Match[str], _text: str) -> PiiMatch | None:
        value = match.group(group)
        known = value in _DOCUMENTED_SECRETS or value.endswith("EXAMPLE")
        return PiiMatch("test_credential" if known else category, match.start(group), match.end(group))

    return classify


def _stripe(match: re.Match[str], _text: str) -> PiiMatch | None:
    category = "test_credential" if match.group(1) == "test" else "stripe_key"
    return PiiMatch(category, match.start(), match.end())


def _openai(match: re.Match[str], _text: str) -> PiiMatch | None:
    body = match.group(1)
    if not _has_letter_and_digit(body) or _is_placeholder(body):
        return None
    return PiiMatch("openai_key", match.start(), match.end())


def _generic_key(match: re.Match[str], _text: str) -> PiiMatch | None:
    value = match.group(1)
    if not _has_letter_and_digit(value) or _is_placeholder(value) or _CODE_VALUE.search(value):
        return None
    return PiiMatch("generic_api_key", match.start(1), match.end(1))


def _password(match: re.Match[str], _text: str) -> PiiMatch | None:
    value = match.group(1)
    # A real-looking password is not a plain word (`password: required`) nor code (`os.environ[...]`).
    if value.isalpha() or _is_placeholder(value) or _CODE_VALUE.search(value) or _is_path(value):
        return None
    return PiiMatch("password", match.start(1), match.end(1))


def _database_url(match: re.Match[str], _text: str) -> PiiMatch | None:
    user, password = match.group(1), match.group(2)
    lowered = password.lower()
    if lowered in ("password", "pass", "passwd", "pwd", "secret") or password == user:
        return None  # documentation and docker-compose defaults (postgres:postgres@…)
    if _is_placeholder(password):
        return None
    return PiiMatch("database_url", match.start(), match.end())


def _jwt(match: re.Match[str], _text: str) -> PiiMatch | None:
    category = "test_credential" if match.group(0) in _DOCUMENTED_SECRETS else "jwt"
    return PiiMatch(category, match.start(), match.end())


def _bearer(match: re.Match[str], _text: str) -> PiiMatch | None:
    value = match.group(1)
    if not _has_letter_and_digit(value) or _is_placeholder(value) or value in _DOCUMENTED_SECRETS:
        return None
    return PiiMatch("bearer_token", match.start(1), match.end(1))


# Order matters on ties: when two rules report the same span at the same severity, the earlier wins.
CREDENTIAL_RULES: tuple[PiiRule, ...] = (
    PiiRule(_PRIVATE_KEY, _private_key, needles=("private key",)),
    PiiRule(_AWS_ACCESS_KEY, _known_or("aws_access_key")),
    PiiRule(_AWS_SECRET_KEY, _known_or("aws_secret_key", group=1), needles=("aws",)),
    PiiRule(_GITHUB, whole("github_token"), needles=("gh", "github_pat_")),
    PiiRule(_GITLAB, whole("gitlab_token"), needles=("glpat-",)),
    PiiRule(_SLACK_TOKEN, whole("slack_token"), needles=("xox",)),
    PiiRule(_SLACK_WEBHOOK, whole("slack_webhook"), needles=("hooks.slack.com",)),
    PiiRule(_STRIPE, _stripe, needles=("_live_", "_test_")),
    PiiRule(_ANTHROPIC, whole("anthropic_key"), needles=("sk-ant-",)),
    PiiRule(_OPENAI, _openai, needles=("sk-",)),
    PiiRule(_GOOGLE, whole("google_api_key"), needles=("aiza",)),
    PiiRule(_DATABASE_URL, _database_url, needles=("://",)),
    PiiRule(_BEARER, _bearer, needles=("bearer",)),
    PiiRule(_JWT, _jwt, needles=("eyj",)),
    PiiRule(_GENERIC_KEY, _generic_key, needles=("key", "token", "secret")),
    PiiRule(_PASSWORD_ASSIGNED, _password, needles=("pass", "pwd")),
    PiiRule(_PASSWORD_SAID, _password, needles=("password",)),
)
