"""Versions of a conversation's messages: the active path and what each version replaces."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from chatkeep.core.message_versions import active_path, link_versions
from chatkeep.storage.models import Message

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def message(label: str, role: str, parent: Message | None, seconds: int) -> Message:
    return Message(
        id=uuid.uuid5(uuid.NAMESPACE_URL, label),
        conversation_id=uuid.UUID(int=1),
        parent_id=parent.id if parent else None,
        role=role,
        content=label,
        sequence_index=(parent.sequence_index if parent else 0) + 1,
        created_at=T0 + timedelta(seconds=seconds),
    )


def test_edits_and_regenerations_replace_their_previous_sibling_of_the_same_role() -> None:
    q1 = message("q1", "user", None, 0)
    a1 = message("a1", "assistant", q1, 1)
    a1b = message("a1b", "assistant", q1, 2)
    a1c = message("a1c", "assistant", q1, 3)
    q1b = message("q1b", "user", None, 4)  # an edit of the very first message: a root sibling
    versions = {v.message.content: v for v in link_versions([a1c, q1, a1b, q1b, a1], a1b.id)}
    assert versions["a1"].replaces is None
    assert versions["a1b"].replaces == a1.id
    assert versions["a1c"].replaces == a1b.id  # the newest earlier sibling, not the first one
    assert versions["q1b"].replaces == q1.id
    assert {label for label, v in versions.items() if not v.superseded} == {"q1", "a1b"}


def test_the_first_answer_to_an_edit_replaces_the_newest_answer_to_the_edited_message() -> None:
    q1 = message("q1", "user", None, 0)
    a1 = message("a1", "assistant", q1, 1)
    a1b = message("a1b", "assistant", q1, 2)
    q1b = message("q1b", "user", None, 3)  # the edit
    a2 = message("a2", "assistant", q1b, 4)  # its first answer: no earlier sibling
    a2b = message("a2b", "assistant", q1b, 5)  # a regeneration of that answer
    versions = {v.message.content: v.replaces for v in link_versions([q1, a1, a1b, q1b, a2, a2b], a2b.id)}
    assert versions["a2"] == a1b.id  # Waldur's `replaces`: the answer it supersedes
    assert versions["a2b"] == a2.id  # a regeneration still replaces its previous sibling


def test_siblings_of_another_role_are_not_versions() -> None:
    q1 = message("q1", "user", None, 0)
    answer = message("answer", "assistant", q1, 1)
    tool = message("tool", "tool", q1, 2)
    versions = {v.message.content: v.replaces for v in link_versions([q1, answer, tool], tool.id)}
    assert versions == {"q1": None, "answer": None, "tool": None}


def test_active_path_survives_a_missing_leaf_and_a_cycle() -> None:
    q1 = message("q1", "user", None, 0)
    a1 = message("a1", "assistant", q1, 1)
    assert active_path([q1, a1], None) == set()
    assert active_path([q1, a1], uuid.uuid4()) == set()
    q1.parent_id = a1.id  # corrupt: a cycle
    assert active_path([q1, a1], a1.id) == {q1.id, a1.id}
