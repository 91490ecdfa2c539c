"""Who is calling: an organisation, a user inside it and a role, resolved from an API token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from chatkeep.core.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller. Every core query is scoped by `org_id`."""

    org_id: uuid.UUID
    org_name: str
    user_id: str
    role: Role
    token_id: uuid.UUID | None = None

    @property
    def sees_whole_org(self) -> bool:
        """Admins and service tokens act for any user of their organisation; members only for themselves."""
        return self.role in (Role.ADMIN, Role.SERVICE)

    def acting_user(self, requested: str | None) -> str:
        """The user a call acts for: the requested one if this principal may act for them."""
        if requested is None or requested == self.user_id:
            return self.user_id
        if not self.sees_whole_org:
            raise Forbidden("a member token may only act for its own user", field="user")
        return requested

    def visible_user(self, requested: str | None) -> str | None:
        """The user filter a list must apply: None (everyone) only for principals that see the whole org."""
        if self.sees_whole_org:
            return requested
        if requested is not None and requested != self.user_id:
            raise Forbidden("a member token may only list its own user's data", field="user")
        return self.user_id
