"""What a dialect asks of a turn: who, which messages, into which conversation, with which options."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Principal
from chatkeep.providers.base import ChatMessage, JsonOutput, ToolSpec

# append: a new user message; regenerate: a new answer to the newest one; edit: a new version of one.
Mode = Literal["append", "regenerate", "edit"]


@dataclass(frozen=True, slots=True)
class TurnOptions:
    model_id: str | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    response_format: JsonOutput | None = None
    # The dialect's documented defaults, used when neither the turn, its conversation nor the organisation
    # sets a value (max_tokens is still capped by the model).
    default_max_tokens: int | None = None
    default_temperature: float | None = None


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One inference. Without `conversation_id` (and not `new_conversation`) the turn is stateless:
    `messages` is the whole context and nothing but usage is stored."""

    principal: Principal
    messages: tuple[ChatMessage, ...]
    options: TurnOptions = TurnOptions()
    conversation_id: uuid.UUID | None = None
    new_conversation: bool = False
    user_id: str | None = None
    mode: Mode = "append"
    edit_message_id: uuid.UUID | None = None
    # Only the caller's own conversation, even for roles that may read everyone's (Waldur's rule).
    own_conversation_only: bool = False
    # Append under this stored message instead of the active leaf: a new branch when it is not the leaf
    # (continuing from an earlier answer).
    parent_message_id: uuid.UUID | None = None
    # Every message is new to the conversation (items to add, as the Responses API sends them), not a
    # client's copy of the history whose new part follows its last assistant message.
    all_input_is_new: bool = False
    # The organisation's AI config when the caller already read it (with the token): no second read.
    config: AIConfig | None = None

    @property
    def stateless(self) -> bool:
        return self.conversation_id is None and not self.new_conversation
