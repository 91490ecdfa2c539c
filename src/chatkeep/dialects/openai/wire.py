"""What every OpenAI request model shares: unknown fields ignored (as OpenAI's server ignores many),
OpenAI's metadata limits, and the acting user."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from chatkeep.core.callers import Caller


def _check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    """OpenAI's limits: at most 16 keys of at most 64 characters, values of at most 512."""
    if value is None:
        return None
    if len(value) > 16:
        raise ValueError("metadata may have at most 16 keys")
    if any(len(k) > 64 for k in value):
        raise ValueError("metadata keys may be at most 64 characters")
    if any(len(v) > 512 for v in value.values()):
        raise ValueError("metadata values may be at most 512 characters")
    return value


Metadata = Annotated[dict[str, str] | None, AfterValidator(_check_metadata)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


def acting_user(caller: Caller, *names: str | None) -> str | None:
    """The end user a call acts for: `user` / `safety_identifier` from a token that may act for others
    (service, admin); a member token always acts for itself, so its `user` is only a label."""
    if not caller.principal.sees_whole_org:
        return None
    return next((n for n in names if n), None)
