"""visible_after: the history after a turn's rows are placed, worked out without a query."""

from __future__ import annotations

import uuid

from chatkeep.core.turn_input import visible_after
from chatkeep.storage.models import Message


def chain(*contents: str, parent: uuid.UUID | None = None) -> list[Message]:
    rows = []
    for content in contents:
        row = Message(id=uuid.uuid4(), parent_id=parent, role="user", content=content)
        rows.append(row)
        parent = row.id
    return rows


def test_appending_extends_the_path() -> None:
    before = chain("q1", "a1")
    added = chain("q2", "reserved", parent=before[-1].id)
    assert visible_after(before, added) == [*before, *added]


def test_a_regenerated_answer_replaces_what_followed_its_question() -> None:
    before = chain("q1", "a1", "q2", "a2")
    added = chain("reserved", parent=before[2].id)
    assert visible_after(before, added) == [*before[:3], *added]


def test_editing_the_first_message_starts_a_new_root() -> None:
    before = chain("q1", "a1")
    added = chain("q1 edited", "reserved")
    assert visible_after(before, added) == added


def test_rows_that_do_not_attach_ask_for_a_query() -> None:
    assert visible_after(chain("q1"), chain("x", parent=uuid.uuid4())) is None
    assert visible_after(chain("q1"), []) is not None
