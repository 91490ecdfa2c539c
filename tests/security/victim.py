"""A victim organisation full of marker strings, and a snapshot of everything it owns.

The victim's member owns a conversation (a Quant session and a Waldur thread at once) whose messages,
metadata, group and title carry unique markers, plus usage rows; the organisation's system prompt is a
marker too. An attack passes when no marker reaches the attacker (in a response or in what a model was
sent) and the snapshot is the same afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import api_tokens, chat_sessions, conversations, org_config, organisations, usage
from chatkeep.core.conversations import NewMessage
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import (
    ApiToken,
    ChatSession,
    Conversation,
    Message,
    Organisation,
    SystemPrompt,
    TokenQuota,
    UsageRecord,
)


@dataclass(frozen=True)
class Victim:
    org: str
    org_id: uuid.UUID
    admin: str  # secrets
    revoked_admin: str
    owner: str  # the user whose data is attacked
    owner_token: str
    intruder: str  # another member of the same organisation
    intruder_token: str
    session_id: uuid.UUID  # the owner's conversation
    user_message_id: uuid.UUID
    answer_message_id: uuid.UUID  # the assistant's answer (an OpenAI stored response)
    chat_session_id: uuid.UUID
    owner_uuid: uuid.UUID  # the owner as Waldur names users
    owner_token_id: uuid.UUID
    prompt_id: uuid.UUID  # the organisation's active staff system prompt
    group: str
    user_markers: tuple[str, ...]  # only the owner (and their organisation's staff) may ever see these
    org_markers: tuple[str, ...]  # only members of the organisation may see these

    def leaked(self, text: str, *, sent: str, same_org: bool) -> list[str]:
        """Markers in `text` that the attacker did not send itself (`sent`: its URL and body)."""
        markers = self.user_markers if same_org else (*self.user_markers, *self.org_markers)
        return [m for m in markers if m not in sent and m in text]


async def make_victim(db: Database) -> Victim:
    mark = uuid.uuid4().hex[:12]
    owner, intruder = f"victim-owner-{mark}", f"intruder-{mark}"
    group, prompt = f"VICTIM-GROUP-{mark}", f"VICTIM-PROMPT-{mark}"
    question, answer, meta = f"VICTIM-QUESTION-{mark}", f"VICTIM-ANSWER-{mark}", f"VICTIM-META-{mark}"
    staff_prompt = f"VICTIM-STAFF-PROMPT-{mark}"
    async with db.write() as session:
        org = await organisations.create(session, name=f"victim-{mark}")
        admin = await api_tokens.create(session, org=org, user_id="admin", role=Role.ADMIN)
        revoked = await api_tokens.create(session, org=org, user_id="admin", role=Role.ADMIN)
        await api_tokens.revoke(session, token_id=revoked.token.id)
        owner_token = await api_tokens.create(session, org=org, user_id=owner, role=Role.MEMBER)
        intruder_token = await api_tokens.create(session, org=org, user_id=intruder, role=Role.MEMBER)
        owner_principal = (await api_tokens.authenticate(session, secret=owner_token.secret)).principal
        admin_principal = (await api_tokens.authenticate(session, secret=admin.secret)).principal
        await org_config.update(
            session, principal=admin_principal, changes={"system_prompt": prompt}, known_models=set()
        )
        conversation = await conversations.create(
            session,
            principal=owner_principal,
            group=group,
            metadata={"secret": meta},
            expires_in=timedelta(days=1),
            initial_messages=[NewMessage("user", question), NewMessage("assistant", answer)],
        )
        user_message = (
            await session.execute(
                select(Message.id).where(Message.conversation_id == conversation.id, Message.role == "user")
            )
        ).scalar_one()
        answer_message = (
            await session.execute(
                select(Message.id).where(
                    Message.conversation_id == conversation.id, Message.role == "assistant"
                )
            )
        ).scalar_one()
        await usage.record(
            session,
            principal=owner_principal,
            user_id=owner,
            model="scripted-text",
            input_tokens=5,
            output_tokens=7,
            latency_ms=3,
            status="complete",
            conversation_id=conversation.id,
        )
        staff_row = SystemPrompt(
            org_id=org.id, name=staff_prompt, description="", custom_instructions=staff_prompt, is_active=True
        )
        session.add(staff_row)
        session.add(TokenQuota(org_id=org.id, user_id=owner, daily_limit=1_000_000))
        await session.flush()
    chat_session = chat_sessions.session_id(org.id, owner)
    owner_uuid = chat_sessions.user_uuid(org.id, owner)
    ids = (
        conversation.id,
        user_message,
        answer_message,
        chat_session,
        owner_uuid,
        owner_token.token.id,
        staff_row.id,
    )
    return Victim(
        org=org.name,
        org_id=org.id,
        admin=admin.secret,
        revoked_admin=revoked.secret,
        owner=owner,
        owner_token=owner_token.secret,
        intruder=intruder,
        intruder_token=intruder_token.secret,
        session_id=conversation.id,
        user_message_id=user_message,
        answer_message_id=answer_message,
        chat_session_id=chat_session,
        owner_uuid=owner_uuid,
        owner_token_id=owner_token.token.id,
        prompt_id=staff_row.id,
        group=group,
        user_markers=(question, answer, meta, group, owner, *_both_spellings(ids)),
        org_markers=(prompt, staff_prompt),
    )


def _both_spellings(ids: Iterable[uuid.UUID]) -> list[str]:
    """Quant renders UUIDs with hyphens, Waldur as 32 hex digits."""
    return [text for value in ids for text in (str(value), value.hex)]


async def snapshot(db: Database, victim: Victim) -> dict[str, list[dict[str, Any]]]:
    """Every row the victim organisation owns, except the intruder's own (an intruder may add those)."""
    async with db.read() as session:
        conversation_ids = select(Conversation.id).where(
            Conversation.org_id == victim.org_id, Conversation.user_id != victim.intruder
        )
        queries: dict[str, Any] = {
            "organisation": select(Organisation).where(Organisation.id == victim.org_id),
            "tokens": select(ApiToken).where(ApiToken.org_id == victim.org_id),
            "conversations": select(Conversation).where(Conversation.id.in_(conversation_ids)),
            "messages": select(Message).where(Message.conversation_id.in_(conversation_ids)),
            "usage": select(UsageRecord).where(
                UsageRecord.org_id == victim.org_id, UsageRecord.user_id != victim.intruder
            ),
            "chat_sessions": select(ChatSession).where(
                ChatSession.org_id == victim.org_id, ChatSession.user_id != victim.intruder
            ),
            "system_prompts": select(SystemPrompt).where(SystemPrompt.org_id == victim.org_id),
            "token_quotas": select(TokenQuota).where(TokenQuota.org_id == victim.org_id),
        }
        return {name: await _rows(session, query) for name, query in queries.items()}


async def _rows(session: AsyncSession, query: Any) -> list[dict[str, Any]]:
    rows = [
        {column.key: getattr(row, column.key) for column in row.__mapper__.column_attrs}
        for row in (await session.execute(query)).scalars()
    ]
    return sorted(rows, key=lambda row: str(row.get("id") or row))
