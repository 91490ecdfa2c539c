"""How a turn's screened input enters a conversation: placed in the message tree according to the mode."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chatkeep.core import conversations
from chatkeep.core.content import blocks_to_json
from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.turns.request import TurnRequest
from chatkeep.guards import GuardVerdict
from chatkeep.providers.base import ChatMessage
from chatkeep.storage.models import Conversation, Message


@dataclass(frozen=True, slots=True)
class Screened:
    """One message of a turn's input, as the guards left it, with its verdict (None: nothing to scan)."""

    message: ChatMessage
    verdict: GuardVerdict | None

    @property
    def blocked(self) -> bool:
        return self.verdict is not None and self.verdict.action == "block"


def system_texts(messages: list[Screened]) -> list[str]:
    return [s.message.text for s in messages if s.message.role == "system" and s.message.text]


def _new_messages(incoming: list[Screened]) -> list[Screened]:
    """The messages a client adds to a stored conversation: those after its last assistant message."""
    last_assistant = max((i for i, s in enumerate(incoming) if s.message.role == "assistant"), default=-1)
    return incoming[last_assistant + 1 :]


@dataclass(slots=True)
class Placement:
    """Where a turn's new messages go in the tree: a chain under `parent_id` (None: the active leaf; with
    `new_root`, a second root)."""

    parent_id: uuid.UUID | None
    new: list[conversations.NewMessage]
    new_root: bool = False
    # A regeneration answers a stored message: if the guards blocked it, the model must not see it now.
    answers_blocked: bool = False


async def plan_input(
    session: Any,
    conversation: Conversation,
    request: TurnRequest,
    incoming: list[Screened],
) -> Placement:
    """Where the input goes according to the mode, and what of it is stored. The caller appends it with
    the turn's reserved answer as one chain (one INSERT).

    This runs under the conversation's write lock, so it reads only what placing needs (for a plain
    append: nothing), never the whole history.
    """
    if request.mode == "regenerate":
        # A new sibling of the newest answer: its parent is the newest user message on the path.
        last_user = await _newest_user_message(session, conversation)
        if last_user is None:
            raise InvalidInput("there is no message to regenerate an answer for", field="mode")
        return Placement(last_user.id, [], answers_blocked=last_user.action_taken == "block")
    parent_id: uuid.UUID | None = request.parent_message_id
    if request.mode == "edit":
        assert request.edit_message_id is not None
        stored = await conversations.get_message(session, request.edit_message_id)
        if stored is None or stored.conversation_id != conversation.id:
            raise NotFound("message not found", field="message")
        if stored.role != "user":
            raise InvalidInput("Can only edit user messages.", field="edited_message")
        target = await _on_visible_path(session, conversation, request.edit_message_id)
        if target is None:
            raise InvalidInput(
                "the edited message must be on the conversation's visible history", field="edited_message"
            )
        parent_id = target.parent_id
    candidates = incoming if request.all_input_is_new else _new_messages(incoming)
    new = [s for s in candidates if s.message.role != "system"]
    if not new or new[-1].message.role != "user":
        raise InvalidInput("the last message must be from the user", field="messages")
    to_store = [
        conversations.NewMessage(
            role=s.message.role,
            content=s.message.text,
            blocks=blocks_to_json(s.message.content),
            safety=s.verdict.safety_fields() if s.verdict else {},
        )
        for s in new
    ]
    # Editing the very first message: the new version is a second root of the tree.
    return Placement(parent_id, to_store, new_root=request.mode == "edit" and parent_id is None)


async def _newest_user_message(session: Any, conversation: Conversation) -> Message | None:
    """The newest user message on the visible path, reading back from the leaf a few messages at a time."""
    if conversation.active_leaf_id is None:
        return None
    newest = 4
    while True:
        path = await conversations.path_to(
            session, conversation=conversation, leaf_id=conversation.active_leaf_id, newest=newest
        )
        found = next((m for m in reversed(path) if m.role == "user"), None)
        if found is not None or len(path) < newest:
            return found
        newest *= 4


async def _on_visible_path(session: Any, conversation: Conversation, message_id: uuid.UUID) -> Message | None:
    """The message, if it is on the visible path: the walk back from the leaf to its depth reaches it."""
    target = await conversations.get_message(session, message_id)
    if target is None or target.conversation_id != conversation.id or conversation.active_leaf_id is None:
        return None
    distance = conversation.message_count - target.sequence_index + 1
    if distance < 1:
        return None
    path = await conversations.path_to(
        session, conversation=conversation, leaf_id=conversation.active_leaf_id, newest=distance
    )
    return target if path and path[0].id == target.id else None


async def append_placed(
    session: Any, conversation: Conversation, placement: Placement, *then: conversations.NewMessage
) -> list[Message]:
    """Append the placed input followed by `then` (the reserved answer) as one chain."""
    if placement.new_root:
        conversation.active_leaf_id = None
        conversation.message_count = 0
    return await conversations.append_messages(
        session,
        conversation=conversation,
        messages=[*placement.new, *then],
        parent_id=placement.parent_id,
    )
