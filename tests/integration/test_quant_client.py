"""The official `quantcdn-client`, unmodified, against `chatkeep serve` over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import quantcdn
from quantcdn.exceptions import ForbiddenException, NotFoundException, UnauthorizedException

from chatkeep.storage.database import Database
from tests.support import LiveServer, Tenant, make_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
async def quant_tenant(db: Database) -> Tenant:
    return await make_tenant(db)


@pytest.fixture
def sessions_api(live_server: LiveServer, quant_tenant: Tenant) -> Iterator[quantcdn.AISessionsApi]:
    config = quantcdn.Configuration(host=live_server.url, access_token=quant_tenant.service)
    with quantcdn.ApiClient(config) as api_client:
        yield quantcdn.AISessionsApi(api_client)


def api_for(live_server: LiveServer, token: str) -> quantcdn.AISessionsApi:
    return quantcdn.AISessionsApi(
        quantcdn.ApiClient(quantcdn.Configuration(host=live_server.url, access_token=token))
    )


def test_every_sessions_call_parses_into_the_client_models(
    sessions_api: quantcdn.AISessionsApi, quant_tenant: Tenant
) -> None:
    org = quant_tenant.name
    created = sessions_api.create_ai_session(
        org,
        quantcdn.CreateAISessionRequest(
            user_id="user-12345",
            session_group="drupal-production",
            metadata={"source": "test"},
            expiration_minutes=30,
            initial_messages=[
                quantcdn.CreateAISessionRequestInitialMessagesInner(role="system", content="You are terse.")
            ],
        ),
    )
    assert isinstance(created, quantcdn.CreateAISession201Response)
    assert created.status == "active"
    assert created.expires_at - created.created_at == timedelta(minutes=30)
    sid = created.session_id
    assert sid is not None and uuid.UUID(sid)

    got = sessions_api.get_ai_session(org, sid)
    assert isinstance(got, quantcdn.GetAISession200Response)
    assert got.id == sid
    assert got.messages is not None and got.messages[0]["content"] == "You are terse."

    updated = sessions_api.update_ai_session(
        org,
        sid,
        quantcdn.UpdateAISessionRequest(
            new_messages=[
                quantcdn.UpdateAISessionRequestNewMessagesInner(role="user", content="Hello"),
                quantcdn.UpdateAISessionRequestNewMessagesInner(role="assistant", content="Hi."),
            ],
            tokens_used=17,
            status="active",
            metadata={"turn": 1},
        ),
    )
    assert isinstance(updated, quantcdn.UpdateAISession200Response)
    assert (updated.session_id, updated.total_messages, updated.total_tokens) == (sid, 3, 17)
    assert updated.updated_at is not None

    listed = sessions_api.list_ai_sessions(
        org, user_id="user-12345", session_group="drupal-production", limit=10
    )
    assert [s.id for s in listed] == [sid]
    assert all(isinstance(s, quantcdn.ListAISessions200ResponseInner) for s in listed)
    assert sessions_api.list_ai_sessions(org, session_group="nope", offset=0) == []

    extended = sessions_api.extend_ai_session(
        org, sid, quantcdn.ExtendAISessionRequest(additional_minutes=15)
    )
    assert isinstance(extended, quantcdn.ExtendAISession200Response)
    assert extended.expires_at - created.expires_at == timedelta(minutes=15)
    assert extended.message == "Session extended by 15 minutes"

    deleted = sessions_api.delete_ai_session(org, sid)
    assert isinstance(deleted, quantcdn.DeleteAISession200Response)
    assert deleted.message
    with pytest.raises(NotFoundException):
        sessions_api.get_ai_session(org, sid)


def test_client_sees_auth_and_tenant_errors_as_typed_exceptions(
    live_server: LiveServer, quant_tenant: Tenant, sessions_api: quantcdn.AISessionsApi
) -> None:
    sid = sessions_api.create_ai_session(
        quant_tenant.name, quantcdn.CreateAISessionRequest(user_id="u")
    ).session_id
    with pytest.raises(UnauthorizedException):
        api_for(live_server, "ck_not_a_token").list_ai_sessions(quant_tenant.name)
    intruder = api_for(live_server, quant_tenant.member)
    with pytest.raises(NotFoundException):
        intruder.get_ai_session(quant_tenant.name, sid)
    with pytest.raises(ForbiddenException):
        intruder.create_ai_session(quant_tenant.name, quantcdn.CreateAISessionRequest(user_id="someone-else"))


async def test_other_organisation_is_forbidden_over_http(live_server: LiveServer, db: Database) -> None:
    victim, attacker = await make_tenant(db), await make_tenant(db)
    sid = (
        api_for(live_server, victim.service)
        .create_ai_session(victim.name, quantcdn.CreateAISessionRequest(user_id="u"))
        .session_id
    )
    api = api_for(live_server, attacker.admin)
    with pytest.raises(ForbiddenException):
        api.get_ai_session(victim.name, sid)
    with pytest.raises(ForbiddenException):
        api.list_ai_sessions(victim.name)
    with pytest.raises(NotFoundException):
        api.delete_ai_session(attacker.name, sid)
    still_there = api_for(live_server, victim.service).get_ai_session(victim.name, sid)
    assert still_there.id == sid
    assert [s.id for s in api_for(live_server, victim.service).list_ai_sessions(victim.name)] == [sid]
