"""Parsing Waldur query and path values the way DRF and django-filter do, with their error wording."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import WithJsonSchema

from chatkeep.core.errors import NotFound
from chatkeep.dialects.waldur.errors import NOT_FOUND

_UUID = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
TOKEN_BOUND = 2**63 - 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Fields = Annotated[list[str] | None, Query(description="Render only these keys (repeatable).")]
# Parsed leniently below (with DRF's error wording), so the schema states what the value must look like.
DateText = Annotated[
    str | None, Query(), WithJsonSchema({"type": "string", "format": "date", "description": "A UTC day"})
]
UuidText = Annotated[
    str | None,
    Query(),
    WithJsonSchema({"type": "string", "format": "uuid", "description": "With or without hyphens"}),
]


def uuid_or_none(raw: str) -> uuid.UUID | None:
    """A UUID written as 32 hex digits, with or without the four hyphens."""
    return uuid.UUID(raw) if _UUID.fullmatch(raw) else None


def path_uuid(raw: str) -> uuid.UUID:
    """A UUID from the path; anything else names nothing, so it is a 404 as in Waldur."""
    value = uuid_or_none(raw)
    if value is None:
        raise NotFound(NOT_FOUND)
    return value


def boolean(raw: str | None) -> bool | None:
    """true/false/1/0 in any case; any other value means the filter is not applied."""
    value = (raw or "").strip().lower()
    return True if value in ("true", "1") else False if value in ("false", "0") else None


def fields(requested: Sequence[str], known: Collection[str]) -> frozenset[str] | None:
    """The `field` selection: None renders every key; unknown names are ignored."""
    return frozenset(requested).intersection(known) if requested else None


class QueryErrors:
    """Collects every bad filter, then fails once with a DRF body such as `{"o": ["…"]}`."""

    def __init__(self) -> None:
        self._errors: list[dict[str, Any]] = []

    def add(self, name: str, message: str) -> None:
        self._errors.append({"loc": ("query", name), "msg": message, "type": "value_error"})

    def raise_if_any(self) -> None:
        if self._errors:
            raise RequestValidationError(self._errors)

    def uuid(self, name: str, raw: str | None) -> uuid.UUID | None:
        if not raw:
            return None
        value = uuid_or_none(raw.strip())
        if value is None:
            self.add(name, "Enter a valid UUID.")
        return value

    def date(self, name: str, raw: str | None) -> date | None:
        if not raw:
            return None
        try:
            if _DATE.fullmatch(raw.strip()):
                return date.fromisoformat(raw.strip())
        except ValueError:
            pass
        self.add(name, "Enter a valid date.")
        return None

    def number(self, name: str, raw: str | None) -> int | None:
        """A NumberFilter bound; token counts are whole, so a fraction is rounded down."""
        if raw is None or not raw.strip():
            return None
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if math.isnan(value):
            self.add(name, "Enter a number.")
            return None
        # Beyond any stored total, a bound filters the same as the largest one.
        return math.floor(max(-TOKEN_BOUND, min(TOKEN_BOUND, value)))

    def choice(self, name: str, raw: str | None, choices: Collection[str]) -> str | None:
        if not raw:
            return None
        if raw not in choices:
            self.add(name, f"Select a valid choice. {raw} is not one of the available choices.")
            return None
        return raw

    def ordering(self, raw: Sequence[str], choices: Collection[str]) -> tuple[str, ...] | None:
        """`o`: comma-separated keys; when repeated, only the last value counts (as in Waldur)."""
        if not raw:
            return None
        keys = tuple(key.strip() for key in raw[-1].split(",") if key.strip())
        bad = [key for key in keys if key not in choices]
        if bad:
            self.add("o", f"Select a valid choice. {bad[0]} is not one of the available choices.")
            return None
        return keys or None
