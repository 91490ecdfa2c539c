"""The official `waldur-api-client` (8.1.3), unmodified, against `chatkeep serve` over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.chat_messages import chat_messages_list
from waldur_api_client.api.chat_sessions import (
    chat_sessions_current_retrieve,
    chat_sessions_list,
    chat_sessions_retrieve,
)
from waldur_api_client.api.chat_threads import (
    chat_threads_archive,
    chat_threads_list,
    chat_threads_retrieve,
    chat_threads_unarchive,
)
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models import (
    ChatSession,
    InjectionSeverityEnum,
    Message,
    MessageRoleEnum,
    ThreadSession,
    ThreadSessionFieldEnum,
    ThreadSessionOEnum,
    ThreadSessionScopeEnum,
)
from waldur_api_client.types import UNSET

from chatkeep.storage.database import Database
from tests.support import LiveServer, Tenant, make_tenant
from tests.unit.dialects.waldur_world import Versioned, make_thread, make_versioned_thread, update_message

pytestmark = pytest.mark.integration


@dataclass
class World:
    tenant: Tenant
    versions: Versioned
    extra_threads: list[str]

    @property
    def owner(self) -> str:
        return self.tenant.members[self.tenant.member_user(0)]


@pytest.fixture
async def world(db: Database) -> World:
    tenant = await make_tenant(db)
    owner = tenant.members[tenant.member_user(0)]
    versions = await make_versioned_thread(db, owner, title="Quarterly budget")
    await update_message(
        db,
        versions.ids["Q2b"],
        is_flagged=True,
        severity="high",
        injection_categories={"instruction_override": "high"},
        pii_categories={"pii_email": "medium"},
        action_taken="flag",
    )
    extra = [await make_thread(db, owner, texts=()) for _ in range(3)]
    return World(tenant, versions, extra)


Connect = Callable[[str], AuthenticatedClient]


@pytest.fixture
def connect(live_server: LiveServer) -> Iterator[Connect]:
    opened: list[AuthenticatedClient] = []

    def factory(token: str) -> AuthenticatedClient:
        client = AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token")
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.get_httpx_client().close()


def test_chat_sessions_current_list_and_retrieve(connect: Connect, world: World) -> None:
    owner = connect(world.owner)
    current = chat_sessions_current_retrieve.sync(client=owner)
    assert isinstance(current, ChatSession)
    assert current.user_username == world.tenant.member_user(0)
    assert chat_sessions_current_retrieve.sync(client=owner).uuid == current.uuid

    listed = chat_sessions_list.sync(client=owner)
    assert [s.uuid for s in listed] == [current.uuid]
    everyone = chat_sessions_list.sync_all(client=connect(world.tenant.admin))
    assert current.uuid in {s.uuid for s in everyone}

    got = chat_sessions_retrieve.sync(current.uuid, client=connect(world.tenant.admin))
    assert isinstance(got, ChatSession) and got.user == current.user and got.created == current.created
    intruder = connect(world.tenant.members[world.tenant.member_user(1)])
    with pytest.raises(UnexpectedStatus) as denied:
        chat_sessions_retrieve.sync(current.uuid, client=intruder)
    assert denied.value.status_code == 404


def test_chat_threads_list_with_filters_pages_and_retrieve(connect: Connect, world: World) -> None:
    owner = connect(world.owner)
    threads = chat_threads_list.sync(
        client=owner, is_archived=False, o=[ThreadSessionOEnum.VALUE_0], page_size=2
    )
    assert len(threads) == 2 and all(isinstance(t, ThreadSession) for t in threads)
    every = chat_threads_list.sync_all(
        client=owner, o=[ThreadSessionOEnum.CREATED]
    )  # follows Link rel="next"
    assert len(every) == 4
    assert every[0].uuid == uuid.UUID(world.versions.thread)  # oldest first

    (budget,) = chat_threads_list.sync(client=owner, query="BUDGET")
    assert budget.name == "Quarterly budget"
    assert budget.message_count == 7  # every stored version, as Waldur counts
    assert budget.max_severity == InjectionSeverityEnum.NONE
    assert budget.chat_session == chat_sessions_current_retrieve.sync(client=owner).uuid

    admin = connect(world.tenant.admin)
    assert chat_threads_list.sync(client=admin, scope=ThreadSessionScopeEnum.OWN) == []
    assert (
        len(chat_threads_list.sync(client=admin, user=chat_sessions_current_retrieve.sync(client=owner).user))
        == 4
    )

    got = chat_threads_retrieve.sync(budget.uuid, client=owner, field=[ThreadSessionFieldEnum.NAME])
    assert got.name == "Quarterly budget" and got.uuid is UNSET
    full = chat_threads_retrieve.sync(budget.uuid, client=admin)
    assert full.user_username == world.tenant.member_user(0) and full.created == budget.created


def test_chat_threads_archive_and_unarchive(connect: Connect, world: World) -> None:
    owner = connect(world.owner)
    thread = uuid.UUID(world.extra_threads[0])
    assert chat_threads_archive.sync_detailed(thread, client=owner).status_code == 204
    assert chat_threads_archive.sync_detailed(thread, client=owner).status_code == 204
    assert chat_threads_retrieve.sync(thread, client=owner).is_archived is True
    archived = chat_threads_list.sync(client=owner, is_archived=True)
    assert [t.uuid for t in archived] == [thread]
    assert chat_threads_unarchive.sync_detailed(thread, client=owner).status_code == 204
    assert chat_threads_retrieve.sync(thread, client=owner).is_archived is False
    with pytest.raises(UnexpectedStatus) as denied:
        chat_threads_archive.sync_detailed(thread, client=connect(world.tenant.admin))
    assert denied.value.status_code == 403


def test_chat_messages_list_with_history_parses_for_members_and_staff(connect: Connect, world: World) -> None:
    thread = uuid.UUID(world.versions.thread)
    owner = connect(world.owner)
    visible = chat_messages_list.sync(client=owner, thread=thread)
    assert all(isinstance(m, Message) for m in visible)
    assert [m.uuid.hex for m in visible] == world.versions.active
    assert visible[0].role == MessageRoleEnum.USER and visible[0].blocks[0].key.value == "markdown"
    assert visible[0].blocks[0]["content"] == "Q1"
    assert visible[1].replaces == uuid.UUID(world.versions.ids["A1"])
    assert visible[2].is_flagged is UNSET  # detection fields are for staff

    history = chat_messages_list.sync(client=owner, thread=thread, include_history=True)
    assert {m.uuid.hex for m in history} == set(world.versions.active) | set(world.versions.superseded)

    staff = chat_messages_list.sync_all(client=connect(world.tenant.admin), thread=thread, is_flagged=True)
    (flagged,) = staff
    assert flagged.is_flagged is True and flagged.severity == InjectionSeverityEnum.HIGH
    assert flagged.injection_categories["instruction_override"] == "high"
    assert flagged.pii_categories.additional_properties == {"pii_email": "medium"}
    assert flagged.action_taken.value == "flag"

    outsider = connect(world.tenant.members[world.tenant.member_user(1)])
    assert chat_messages_list.sync(client=outsider, thread=thread) == []


def test_bad_tokens_are_refused(connect: Connect, world: World) -> None:
    with pytest.raises(UnexpectedStatus) as refused:
        chat_threads_list.sync(client=connect("ck_not_a_token"))
    assert refused.value.status_code == 401
    assert b"Invalid token." in refused.value.content


@pytest.fixture
async def crowded(db: Database) -> Tenant:
    """A member with more threads than one page of the client's `*_all` helpers (100) holds."""
    tenant = await make_tenant(db, members=1)
    for _ in range(101):
        await make_thread(db, tenant.member, texts=())
    return tenant


def test_sync_all_follows_the_link_header_across_pages(connect: Connect, crowded: Tenant) -> None:
    threads = chat_threads_list.sync_all(client=connect(crowded.member), o=[ThreadSessionOEnum.VALUE_0])
    assert len(threads) == len({t.uuid for t in threads}) == 101
    created = [t.created for t in threads]
    assert created == sorted(created, reverse=True)
