"""What a conversation page shows: the visible path, each message with its place among its versions."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatkeep.core.message_versions import MessageVersion, active_path
from chatkeep.storage.models import Message


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """One message on the visible path; `versions` are its siblings (edits or regenerations), oldest first."""

    message: Message
    position: int  # 1-based, among `versions`
    versions: tuple[uuid.UUID, ...]
    attachments: tuple[dict[str, Any], ...]

    @property
    def previous_version(self) -> uuid.UUID | None:
        return self.versions[self.position - 2] if self.position > 1 else None

    @property
    def next_version(self) -> uuid.UUID | None:
        return self.versions[self.position] if self.position < len(self.versions) else None

    @property
    def categories(self) -> list[tuple[str, str]]:
        found = {**(self.message.injection_categories or {}), **(self.message.pii_categories or {})}
        return sorted(found.items())


def visible_thread(versions: Sequence[MessageVersion], leaf_id: uuid.UUID | None) -> list[ShownMessage]:
    """The messages from the root to `leaf_id`, oldest first, with their sibling versions."""
    messages = [v.message for v in versions]
    path = active_path(messages, leaf_id)
    siblings: dict[tuple[uuid.UUID | None, str], list[Message]] = defaultdict(list)
    for message in messages:
        siblings[(message.parent_id, message.role)].append(message)
    for group in siblings.values():
        group.sort(key=lambda m: (m.created_at, str(m.id)))
    shown = []
    for message in sorted((m for m in messages if m.id in path), key=lambda m: m.sequence_index):
        group = siblings[(message.parent_id, message.role)]
        ids = tuple(m.id for m in group)
        shown.append(ShownMessage(message, ids.index(message.id) + 1, ids, _attachments(message)))
    return shown


def _attachments(message: Message) -> tuple[dict[str, Any], ...]:
    """Names, kinds and sizes of a message's media blocks (never their bytes)."""
    return tuple(
        {
            "kind": block.get("type"),
            "name": block.get("name") or block.get("format"),
            "size": block.get("size"),
        }
        for block in message.blocks or ()
        if block.get("type") in ("image", "document", "video")
    )
