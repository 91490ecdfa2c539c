"""How a turn's input enters a conversation: guarding, and placing it in the message tree by mode."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from chatkeep.core import conversations
from chatkeep.core.content import blocks_to_json, replace_text
from chatkeep.core.errors import InvalidInput
from chatkeep.guards import GuardPolicy, GuardVerdict, scan
from chatkeep.providers.base import ChatMessage
from chatkeep.storage.models import Conversation, Message

if TYPE_CHECKING:
    from chatkeep.core.turns import TurnRequest


def guard_input(
    request: TurnRequest, policy: GuardPolicy | None
) -> tuple[list[ChatMessage], GuardVerdict | None]:
    """Scan the newest user message; apply redaction to what is sent and stored."""
    messages = list(request.messages)
    if request.mode == "regenerate":
        return messages, None  # nothing new from the user: the stored message was guarded when it came in
    index = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if index is None:
        return messages, None
    verdict = scan(messages[index].text, policy)
    if verdict.stored_text != messages[index].text:
        messages[index] = replace_text(messages[index], verdict.stored_text)
    return messages, verdict


def system_texts(messages: list[ChatMessage]) -> list[str]:
    return [m.text for m in messages if m.role == "system" and m.text]


def _new_messages(incoming: list[ChatMessage]) -> list[ChatMessage]:
    """The messages a client adds to a stored conversation: those after its last assistant message."""
    last_assistant = max((i for i, m in enumerate(incoming) if m.role == "assistant"), default=-1)
    return incoming[last_assistant + 1 :]


async def place_input(
    session: Any,
    conversation: Conversation,
    request: TurnRequest,
    incoming: list[ChatMessage],
    verdict: GuardVerdict | None,
) -> tuple[uuid.UUID | None, list[Message], list[Message]]:
    """Store the input according to the mode; return the assistant row's parent, the stored rows (added to
    the session, not yet flushed) and the visible history as it was before (see `visible_after`)."""
    history = await conversations.visible_history(session, conversation=conversation)
    if request.mode == "regenerate":
        # A new sibling of the newest answer: its parent is the newest user message on the path.
        last_user = next((m for m in reversed(history) if m.role == "user"), None)
        if last_user is None:
            raise InvalidInput("there is no message to regenerate an answer for", field="mode")
        return last_user.id, [], history
    parent_id: uuid.UUID | None = None
    if request.mode == "edit":
        target = next((m for m in history if m.id == request.edit_message_id), None)
        if target is None or target.role != "user":
            raise InvalidInput(
                "edit_message_uuid must be a user message of this thread", field="edit_message_uuid"
            )
        parent_id = target.parent_id
    new = [m for m in _new_messages(incoming) if m.role != "system"]
    if not new or new[-1].role != "user":
        raise InvalidInput("the last message must be from the user", field="messages")
    safety = verdict.safety_fields() if verdict else {}
    to_store = [
        conversations.NewMessage(
            role=m.role,
            content=m.text,
            blocks=blocks_to_json(m.content),
            safety=safety if i == len(new) - 1 else {},
        )
        for i, m in enumerate(new)
    ]
    # Not flushed: the turn appends its reserved answer under these rows next, and one flush writes both.
    if request.mode == "edit":
        stored = (
            await conversations.append_messages(
                session, conversation=conversation, messages=to_store, parent_id=parent_id, flush=False
            )
            if parent_id is not None
            else await _append_at_root(session, conversation, to_store)
        )
    else:
        stored = await conversations.append_messages(
            session, conversation=conversation, messages=to_store, flush=False
        )
    return stored[-1].id, stored, history


def visible_after(before: list[Message], added: list[Message]) -> list[Message] | None:
    """The visible history once `added` (a chain of new rows, oldest first) hangs under a message of
    `before` (the history read at the start of the same transaction), worked out without a query.

    None when `added` does not attach to `before` as expected; the caller then reads the history again.
    """
    if not added:
        return list(before)
    anchor = added[0].parent_id
    if anchor is None:
        return list(added)
    for index, message in enumerate(before):
        if message.id == anchor:
            return [*before[: index + 1], *added]
    return None


async def _append_at_root(
    session: Any, conversation: Conversation, messages: list[conversations.NewMessage]
) -> list[Message]:
    """Editing the very first message: the new version is a second root of the tree."""
    conversation.active_leaf_id = None
    conversation.message_count = 0
    return await conversations.append_messages(
        session, conversation=conversation, messages=messages, flush=False
    )
