"""OpenAI-style ids that carry chatkeep UUIDs, so no table maps one to the other.

    conv_<32 hex>  a conversation        msg_<32 hex>   a stored message (an item)
    resp_<32 hex>  an assistant message  (the response that produced it)

A stateless call's response id carries its request id instead, and is found nowhere later.
"""

from __future__ import annotations

import uuid

from chatkeep.core.errors import InvalidInput, NotFound

CONVERSATION, RESPONSE, MESSAGE = "conv", "resp", "msg"


def encode(prefix: str, value: uuid.UUID | str) -> str:
    return f"{prefix}_{value.hex if isinstance(value, uuid.UUID) else value}"


def decode(prefix: str, value: str, *, field: str, subject: str) -> uuid.UUID:
    """The UUID in a request field: an id of the wrong kind is invalid input, an unknown one not found."""
    head, sep, _ = value.partition("_")
    if not sep or head != prefix:
        raise InvalidInput(f"{field} must be an id starting with '{prefix}_'", field=field)
    return decode_path(prefix, value, subject=subject)


def decode_path(prefix: str, value: str, *, subject: str) -> uuid.UUID:
    """The UUID in a path's id: anything that is not one of ours names nothing (404, as OpenAI answers)."""
    head, sep, tail = value.partition("_")
    try:
        if not sep or head != prefix or len(tail) != 32:
            raise ValueError(value)
        return uuid.UUID(hex=tail)
    except ValueError:
        raise NotFound(f"No {subject} found with id '{value}'.", field=subject) from None
