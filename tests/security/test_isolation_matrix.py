"""Tenant and user isolation on every route of the app, generated from its route table.

For each API route and each kind of outsider (another organisation, another member of the same
organisation, no token, malformed tokens, a revoked token) the answer has the right status, holds none
of the victim's marker strings, sends none of them to a model, and changes none of the victim's rows.
A route the matrix does not know how to attack fails `test_every_route_is_in_the_matrix`; only the
health probes and the API documentation are public.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chatkeep.app import create_app
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.fakes import ScriptedProvider
from tests.security import route_matrix
from tests.security.route_matrix import PUBLIC, Call
from tests.security.victim import Victim, make_victim, snapshot
from tests.support import Tenant

ROUTES = sorted(set(route_matrix.routes(create_app(Settings(database_url="sqlite+aiosqlite://")))))
ATTACKED = [route for route in ROUTES if route not in PUBLIC]
PROBES = route_matrix.probes()
UNAUTHENTICATED = frozenset({401})


@dataclass(frozen=True)
class Attempt:
    method: str
    url: str
    call: Call
    headers: dict[str, str]
    expected: frozenset[int]

    @property
    def sent(self) -> str:
        return self.url + json.dumps(self.call.params) + json.dumps(self.call.json)


@dataclass(frozen=True)
class Target:
    """One route, its calls against this victim, and how it authenticates."""

    method: str
    dialect: str  # quant, waldur, native or openai
    prefix: str | None  # the Quant or native path family, or None for Waldur and OpenAI routes
    calls: list[Call]

    @property
    def scheme(self) -> str:
        return "Token" if self.dialect == route_matrix.WALDUR_DIALECT else "Bearer"

    def url(self, call: Call, org: str) -> str:
        return call.path if self.prefix is None else self.prefix.format(organisation=org) + call.path

    def attempts(
        self, org: str, secret: str | None, expected: Callable[[Call], frozenset[int]]
    ) -> list[Attempt]:
        headers = {"Authorization": f"{self.scheme} {secret}"} if secret else {}
        return [Attempt(self.method, self.url(c, org), c, headers, expected(c)) for c in self.calls]


def another_org(t: Target, v: Victim, attacker: Tenant) -> list[Attempt]:
    """Quant: every role of the attacker on the victim's path (403), then its admin on its own path."""
    attempts = []
    if t.prefix is not None:
        for secret in (attacker.admin, attacker.service, attacker.member):
            attempts += t.attempts(v.org, secret, lambda c: frozenset({403}))
        return attempts + t.attempts(attacker.name, attacker.admin, lambda c: c.foreign)
    for secret in (attacker.admin, attacker.member):
        attempts += t.attempts(attacker.name, secret, lambda c: c.foreign)
    return attempts


def same_org_member(t: Target, v: Victim, attacker: Tenant) -> list[Attempt]:
    return t.attempts(v.org, v.intruder_token, lambda c: c.member)


def no_token(t: Target, v: Victim, attacker: Tenant) -> list[Attempt]:
    return t.attempts(v.org, None, lambda c: UNAUTHENTICATED)


def malformed_token(t: Target, v: Victim, attacker: Tenant) -> list[Attempt]:
    other_scheme = "Token" if t.scheme == "Bearer" else "Bearer"
    values = [
        f"{t.scheme} ck_x",
        t.scheme,
        "",
        "garbage",
        f"{t.scheme} {'x' * 5000}",
        f"{t.scheme} {v.admin}x",  # a valid token plus one character
        f"{t.scheme} {v.admin} {v.admin}",
        f"{other_scheme} {v.admin}",  # a valid token in the other dialect's scheme
    ]
    first = t.calls[0]
    return [
        Attempt(t.method, t.url(first, v.org), first, {"Authorization": value}, UNAUTHENTICATED)
        for value in values
    ]


def revoked_token(t: Target, v: Victim, attacker: Tenant) -> list[Attempt]:
    return t.attempts(v.org, v.revoked_admin, lambda c: UNAUTHENTICATED)


ACTORS: dict[str, Callable[[Target, Victim, Tenant], list[Attempt]]] = {
    "another-org": another_org,
    "same-org-member": same_org_member,
    "no-token": no_token,
    "malformed-token": malformed_token,
    "revoked-token": revoked_token,
}


@pytest.fixture
async def victim(db: Database) -> Victim:
    """A fresh victim per test, so one destructive bug cannot hide the next (a deleted row stays 404)."""
    return await make_victim(db)


def test_every_route_is_in_the_matrix() -> None:
    assert sorted(set(ATTACKED) - set(PROBES)) == [], "routes nobody attacks: add them to route_matrix.py"
    assert sorted(set(PROBES) - set(ATTACKED)) == [], "the matrix names routes the app does not have"
    # 15 Quant routes in 3 path families, 22 Waldur routes, 2 native routes, 17 OpenAI routes
    assert len(ATTACKED) == 86


@pytest.mark.parametrize("route", sorted(PUBLIC), ids=" ".join)
async def test_public_routes_need_no_token_and_hold_no_tenant_data(
    route: tuple[str, str], scripted_client: httpx.AsyncClient, victim: Victim
) -> None:
    assert route in ROUTES
    response = await scripted_client.request(*route)
    assert response.status_code == 200
    assert victim.leaked(response.text, sent="", same_org=False) == []


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", ATTACKED, ids=" ".join)
async def test_outsiders_get_nothing_and_change_nothing(
    route: tuple[str, str],
    actor: str,
    scripted_client: httpx.AsyncClient,
    scripted: ScriptedProvider,
    db: Database,
    victim: Victim,
    other_tenant: Tenant,
) -> None:
    dialect, prefix, probe = PROBES[route]
    target = Target(route[0], dialect, prefix, probe(victim))
    attempts = ACTORS[actor](target, victim, other_tenant)
    same_org = actor == "same-org-member"
    before = await snapshot(db, victim)
    for attempt in attempts:
        response = await scripted_client.request(
            attempt.method,
            attempt.url,
            params=attempt.call.params,
            json=attempt.call.json,
            headers=attempt.headers,
        )
        where = f"{attempt.method} {attempt.url} {attempt.call.params} as {attempt.headers}"
        assert response.status_code in attempt.expected, f"{where}: {response.status_code} {response.text}"
        assert victim.leaked(response.text, sent=attempt.sent, same_org=same_org) == [], where
        _assert_error_shape(response, dialect)
    sent = "".join(a.sent for a in attempts)
    assert victim.leaked(repr(scripted.requests), sent=sent, same_org=same_org) == [], "a model saw it"
    assert await snapshot(db, victim) == before


def _assert_error_shape(response: httpx.Response, dialect: str) -> None:
    """Errors are JSON in the dialect's shape; 401 challenges with the dialect's scheme."""
    if response.status_code < 400:
        return
    body: Any = response.json()
    waldur = dialect == route_matrix.WALDUR_DIALECT
    if dialect == route_matrix.OPENAI_DIALECT:
        assert set(body) == {"error"} and {"message", "type", "param", "code"} == set(body["error"])
    else:
        assert (
            "detail" in body if waldur else {"error", "message"} <= set(body)
        ) or response.status_code == 400
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == ("Token" if waldur else "Bearer")
