"""An organisation with everything an export must carry: branches, verdicts, blocks, usage, sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

from chatkeep.core import conversations, organisations
from chatkeep.core import usage as usage_ledger
from chatkeep.core.conversations import NewMessage
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database


async def fill_org(db: Database, name: str | None = None, *, conversations_count: int = 3) -> str:
    """Create an organisation named `name` (random by default) full of data; returns its name."""
    name = name or f"org-{uuid.uuid4().hex[:10]}"
    async with db.write() as session:
        org = await organisations.create(session, name=name, config={"default_model": "m", "max_tokens": 64})
        principal = Principal(org_id=org.id, org_name=name, user_id="svc", role=Role.SERVICE)
        for i in range(conversations_count):
            conversation = await conversations.create(
                session,
                principal=principal,
                user_id=f"user-{i % 2}",
                group="g" if i else None,
                metadata={"n": i, "tags": ["a", "b"]},
                expires_in=timedelta(days=30) if i == 2 else None,
                initial_messages=[
                    NewMessage(role="system", content="be brief"),
                    NewMessage(role="user", content=f"question {i} ünïcødé"),
                    NewMessage(
                        role="assistant", content=f"answer {i}", model="m", input_tokens=5, output_tokens=2
                    ),
                ],
            )
            question = (await conversations.visible_history(session, conversation=conversation))[1]
            # A regeneration (a sibling answer) and an edit (a sibling question) keep every version.
            await conversations.append_messages(
                session,
                conversation=conversation,
                messages=[NewMessage(role="assistant", content=f"answer {i} again", model="m")],
                parent_id=question.id,
            )
            await conversations.append_messages(
                session,
                conversation=conversation,
                messages=[
                    NewMessage(
                        role="user",
                        content="call me on [PHONE]",
                        blocks=[{"type": "text", "text": "call me on [PHONE]"}],
                        safety={
                            "is_flagged": True,
                            "severity": "medium",
                            "pii_categories": {"phone": "medium"},
                            "action_taken": "redact",
                        },
                    ),
                    NewMessage(role="assistant", content="sure", status="cancelled"),
                ],
                parent_id=question.parent_id,
            )
            await usage_ledger.record(
                session,
                principal=principal,
                user_id=conversation.user_id,
                model="m",
                input_tokens=7 + i,
                output_tokens=3,
                latency_ms=120,
                status="complete",
                cost_cents=0.25,
                conversation_id=conversation.id,
            )
        await usage_ledger.record(
            session,
            principal=principal,
            user_id="svc",
            model="e",
            input_tokens=4,
            output_tokens=0,
            latency_ms=5,
            status="complete",
            kind="embedding",
        )
    return name
