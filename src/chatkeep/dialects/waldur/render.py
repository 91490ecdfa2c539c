"""Core rows rendered as Waldur JSON: hex UUIDs, `Z` timestamps and the superset message shape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from chatkeep.core import chat_sessions
from chatkeep.core.conversation_search import TokenTotals
from chatkeep.core.conversation_stats import ConversationStats
from chatkeep.core.message_versions import MessageVersion
from chatkeep.core.token_quotas import PeriodUsage
from chatkeep.guards import Severity
from chatkeep.storage.models import ChatSession, Conversation, SystemPrompt

UNTITLED = "New chat"
SESSION_FIELDS = frozenset({"uuid", "user", "user_username", "user_full_name", "created", "modified"})
THREAD_FIELDS = frozenset(
    {
        "uuid",
        "name",
        "chat_session",
        "flags",
        "is_archived",
        "message_count",
        "is_flagged",
        "max_severity",
        "user_username",
        "user_full_name",
        "created",
        "modified",
        # Added in later Waldur releases; clients that do not know them ignore them.
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "title_gen_input_tokens",
        "title_gen_output_tokens",
        "models_used",
        "has_feedback",
    }
)
DETECTION_FIELDS = ("is_flagged", "severity", "injection_categories", "pii_categories", "action_taken")
SEVERITIES = frozenset(Severity)
ACTIONS = frozenset({"allow", "flag", "warn", "redact", "block"})


def hex_id(value: uuid.UUID) -> str:
    """Waldur's StringUUID: 32 lowercase hex digits, no hyphens."""
    return value.hex


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as DRF's encoder writes it."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def selected(body: dict[str, Any], keep: frozenset[str] | None) -> dict[str, Any]:
    """Only the keys asked for with `field`, or all of them."""
    return body if keep is None else {key: value for key, value in body.items() if key in keep}


def chat_session(row: ChatSession) -> dict[str, Any]:
    # chatkeep stores no display names, so both names carry the user id.
    return {
        "uuid": hex_id(row.id),
        "user": hex_id(row.user_uuid),
        "user_username": row.user_id,
        "user_full_name": row.user_id,
        "created": timestamp(row.created_at),
        "modified": timestamp(row.updated_at),
    }


def thread(row: Conversation, totals: TokenTotals | None = None) -> dict[str, Any]:
    totals = totals or TokenTotals()
    flagged = row.is_flagged or row.max_severity != "none"
    return {
        "uuid": hex_id(row.id),
        "name": row.title or UNTITLED,
        "chat_session": hex_id(chat_sessions.session_id(row.org_id, row.user_id)),
        "flags": {"is_flagged": row.is_flagged, "max_severity": row.max_severity} if flagged else {},
        "is_archived": row.archived,
        # As Waldur counts: every user and assistant message, superseded versions too.
        "message_count": totals.messages,
        "is_flagged": row.is_flagged,
        "max_severity": row.max_severity,
        "user_username": row.user_id,
        "user_full_name": row.user_id,
        "created": timestamp(row.created_at),
        "modified": timestamp(row.updated_at),
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "total_tokens": row.total_tokens,
        "title_gen_input_tokens": None,
        "title_gen_output_tokens": None,
        "models_used": ",".join(totals.models),
        "has_feedback": totals.rated > 0,
    }


def message_json(version: MessageVersion, *, detections: bool) -> bytes:
    """`message` as JSON bytes, the content encoded once for both places it appears."""
    encoded = orjson.Fragment(orjson.dumps(version.message.content))
    return orjson.dumps(message(version, detections=detections, content=encoded))


def message(version: MessageVersion, *, detections: bool, content: Any = None) -> dict[str, Any]:
    """The 8.0.6 shape (`content`) and the 8.1.3 shape (`blocks`, `warning`, tokens, feedback) at once.

    `content` replaces the message's text in both places (`message_json` passes it encoded once).
    """
    m = version.message
    text = m.content if content is None else content
    body: dict[str, Any] = {
        "uuid": hex_id(m.id),
        "thread": hex_id(m.conversation_id),
        "role": m.role,
        "content": text,
        # Stored blocks are provider blocks (media, tool calls); Waldur clients get the text as markdown.
        "blocks": [{"id": "blk_0", "key": "markdown", "status": "complete", "content": text}],
        "warning": "",
        "sequence_index": m.sequence_index,
        "replaces": hex_id(version.replaces) if version.replaces else None,
        "created": timestamp(m.created_at),
        "model": m.model,
        "input_tokens": m.input_tokens,
        "output_tokens": m.output_tokens,
        "feedback_score": m.feedback_score,
        "feedback_comment": m.feedback_comment,
        "feedback_category": m.feedback_category,
        "feedback_submitted_at": timestamp(m.feedback_submitted_at) if m.feedback_submitted_at else None,
    }
    if detections:
        body |= {
            "is_flagged": m.is_flagged,
            "severity": m.severity if m.severity in SEVERITIES else "none",
            "injection_categories": _categories(m.injection_categories, m.severity),
            "pii_categories": {
                waldur_pii_name(k): v for k, v in _categories(m.pii_categories, m.severity).items()
            },
            "action_taken": _action(m.action_taken, flagged=m.is_flagged),
        }
    return body


def _categories(stored: Any, severity: str) -> dict[str, str]:
    """`{category: severity}`; the 8.1.3 client cannot parse a list, so a legacy list becomes an object."""
    if isinstance(stored, dict):
        return {str(k): str(v) for k, v in stored.items()}
    return {str(category): severity for category in stored or ()}


def _action(stored: str, *, flagged: bool) -> str:
    """Waldur's action enum; the generated clients reject any other value, such as chatkeep's "none"."""
    if stored in ACTIONS:
        return stored
    return "flag" if flagged else "allow"


def waldur_pii_name(category: str) -> str:
    """Waldur's name for a PII or secret category (chatkeep's own names stay in the other dialects)."""
    if category.startswith("pii_"):
        return category
    return WALDUR_PII_NAMES.get(category, f"pii_{category}")


# chatkeep's guard category → the name Waldur's detector reports for the same finding.
WALDUR_PII_NAMES = {
    "email": "pii_email",
    "phone": "pii_phone_e164",
    "payment_card": "pii_credit_card",
    "test_payment_card": "pii_credit_card",
    "iban": "pii_iban_general",
    "ee_isikukood": "pii_estonian_id",
    "fi_hetu": "pii_finland_hetu",
    "es_dni": "pii_spain_dni",
    "es_nie": "pii_spain_nie",
    "pl_pesel": "pii_poland_pesel",
    "aws_access_key": "pii_aws_access_key",
    "aws_secret_key": "pii_aws_secret_key",
    "github_token": "pii_github_token",
    "gitlab_token": "pii_gitlab_pat",
    "slack_token": "pii_slack_token",
    "slack_webhook": "pii_slack_webhook",
    "stripe_key": "pii_stripe_key",
    "sendgrid_key": "pii_sendgrid_key",
    "azure_storage_key": "pii_azure_key",
    "google_api_key": "pii_gcp_api_key",
    "generic_api_key": "pii_generic_api_key",
    "password": "pii_password_context",
    "database_url": "pii_database_url",
    "jwt": "pii_jwt",
    "bearer_token": "pii_bearer_token",
    "private_key": "pii_private_key",
}


def thread_stats(stats: ConversationStats) -> dict[str, Any]:
    return {
        "threads_total": stats.conversations,
        # One chat session per user: as many sessions as users own the matching threads.
        "sessions_total": stats.users,
        "users_total": stats.users,
        "messages_total": stats.messages,
        "input_tokens_total": stats.input_tokens,
        "output_tokens_total": stats.output_tokens,
        "total_tokens": stats.input_tokens + stats.output_tokens,
        "flagged_total": stats.flagged,
        "feedback_positive": stats.rated_up,
        "feedback_negative": stats.rated_down,
        "satisfaction_rate": stats.satisfaction,
    }


def quota_usage(periods: list[PeriodUsage]) -> dict[str, Any]:
    """Waldur's TokenQuotaUsageResponse; a default of "no limit" shows as -1 (Waldur's unlimited)."""
    body: dict[str, Any] = {}
    for p in periods:
        body |= {
            f"{p.period}_limit": p.own_limit,
            f"{p.period}_usage": p.usage,
            f"{p.period}_remaining": p.remaining,
            f"{p.period}_reset_at": timestamp(p.resets_at),
            f"{p.period}_system_default": -1 if p.default_limit is None else p.default_limit,
        }
    return body


def system_prompt(row: SystemPrompt) -> dict[str, Any]:
    return {
        "uuid": hex_id(row.id),
        "name": row.name,
        "description": row.description,
        "custom_instructions": row.custom_instructions,
        "is_active": row.is_active,
        "created": timestamp(row.created_at),
        "modified": timestamp(row.updated_at),
    }
