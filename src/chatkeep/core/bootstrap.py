"""First start: give an empty database a default organisation and an admin token."""

from __future__ import annotations

from chatkeep.core import api_tokens, audit, organisations
from chatkeep.core.errors import Conflict
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database

DEFAULT_ORG = "default"


async def bootstrap(db: Database) -> api_tokens.IssuedToken | None:
    """Create the default organisation and an admin token if no organisation exists yet.

    Returns the issued token (whose secret must be shown once), or None when there was nothing to do,
    including when another replica won the race to bootstrap.
    """
    try:
        async with db.write() as session:
            if await organisations.any_exist(session):
                return None
            org = await organisations.create(session, name=DEFAULT_ORG)
            issued = await api_tokens.create(
                session, org=org, user_id="admin", role=Role.ADMIN, name="bootstrap"
            )
            await audit.record(session, principal=audit.system(org.id), **audit.token_created(issued.token))
            return issued
    except Conflict:
        return None
