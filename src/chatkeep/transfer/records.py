"""Table rows to JSON-ready dicts and back, column by column, so every column travels (new ones too)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, Uuid

from chatkeep.storage.types import UTCDateTime


def to_json(table: Table, row: Mapping[Any, Any], record: str) -> dict[str, Any]:
    """A row of `table` as a JSON-ready dict whose `record` field names it."""
    line: dict[str, Any] = {"record": record}
    for column in table.columns:
        value = row[column.name]
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        line[str(column.name)] = value  # a plain str: the name is a str subclass orjson refuses as a key
    return line


def from_json(table: Table, line: Mapping[str, Any]) -> dict[str, Any]:
    """The column values for an INSERT into `table` from a line written by `to_json`.

    A column the line lacks (written by an older chatkeep) takes its default, or NULL.
    """
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name in line:
            values[column.name] = _parse(column.type, line[column.name])
        elif column.default is not None and getattr(column.default, "is_scalar", False):
            values[column.name] = column.default.arg  # type: ignore[attr-defined]
        elif column.default is not None and getattr(column.default, "is_callable", False):
            values[column.name] = column.default.arg(None)  # type: ignore[attr-defined]
        else:
            values[column.name] = None
    return values


def _parse(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, Uuid):
        return uuid.UUID(str(value))
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(str(value))
    return value
