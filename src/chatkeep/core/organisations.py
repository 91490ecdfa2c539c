"""Organisations (tenants) and their AI configuration."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import Conflict, InvalidInput, NotFound
from chatkeep.storage.models import Organisation

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


def validate_name(name: str) -> str:
    """Organisation names are URL path segments: lower-case letters, digits, '.', '_' and '-'."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "organisation names are 1-100 characters of a-z, 0-9, '.', '_' or '-', starting with a letter "
            "or digit",
            field="name",
        )
    return name


async def create(session: AsyncSession, *, name: str, config: dict[str, Any] | None = None) -> Organisation:
    """Create an organisation; Conflict if the name is taken."""
    org = Organisation(name=validate_name(name), config=config or {})
    session.add(org)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"organisation {name!r} already exists", field="name") from exc
    return org


async def get(session: AsyncSession, *, org_id: uuid.UUID) -> Organisation | None:
    """The organisation with this id, or None."""
    return await session.get(Organisation, org_id)


async def get_by_name(session: AsyncSession, *, name: str) -> Organisation | None:
    """The organisation with this machine name, or None."""
    return (await session.execute(select(Organisation).where(Organisation.name == name))).scalar_one_or_none()


async def get_by_name_or_raise(session: AsyncSession, *, name: str) -> Organisation:
    """The organisation with this machine name; NotFound otherwise."""
    org = await get_by_name(session, name=name)
    if org is None:
        raise NotFound(f"organisation {name!r} does not exist", field="org")
    return org


async def get_all(session: AsyncSession) -> list[Organisation]:
    """Every organisation, oldest first."""
    return list((await session.execute(select(Organisation).order_by(Organisation.created_at))).scalars())


async def any_exist(session: AsyncSession) -> bool:
    """Whether the database holds any organisation yet (first-start bootstrap)."""
    return (await session.execute(select(Organisation.id).limit(1))).first() is not None
