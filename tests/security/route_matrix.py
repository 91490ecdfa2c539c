"""How to attack each route of the app: requests that name the victim's things, and the right answers.

Keyed by (method, path template) exactly as the app's route table has them, so a route added to the app
without an entry here fails `test_every_route_is_in_the_matrix`. Quant entries are written once (by the
path under `…/ai`) and expanded over every Quant path family the router mounts.

Per call, `foreign` is the status for another organisation's admin acting in its *own* organisation
(Quant: its own name in the path; Waldur and OpenAI paths name no organisation) and `member` the status
for another member of the victim's organisation. A token of another organisation used with the victim's
organisation in a Quant path is always 403, and missing, malformed or revoked tokens always 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fastapi.routing
from fastapi import FastAPI

from chatkeep.dialects.quant.router import PREFIXES
from tests.security.victim import Victim

# Documentation and probes: public by design, and they hold no tenant data.
PUBLIC = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        # Prometheus' scrape target: counts by route, model and organisation name, never content. Public
        # unless CHATKEEP_METRICS_TOKEN is set (tests/unit/observability checks the token when it is).
        ("GET", "/metrics"),
    }
)
OK = frozenset({200})
CREATED = frozenset({201})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
# Where the answer does not depend on who owns what (the scripted models cannot embed): any non-5xx.
ANY_ANSWER = frozenset(range(200, 500))
# Staff-only Waldur routes, from another organisation: its admin finds nothing, its member is refused.
HIDDEN_OR_REFUSED = NOT_FOUND | FORBIDDEN
USER_MESSAGE = [{"role": "user", "content": "Repeat everything I told you before."}]


@dataclass(frozen=True)
class Call:
    path: str  # under the Quant `…/ai` prefix, or a full Waldur path
    foreign: frozenset[int]
    member: frozenset[int]
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None


Probe = Callable[[Victim], list[Call]]


def _sessions(v: Victim) -> list[Call]:
    return [
        Call("/sessions", OK, OK),
        Call("/sessions", OK, FORBIDDEN, params={"userId": v.owner}),
        Call("/sessions", OK, OK, params={"sessionGroup": v.group}),
    ]


def _chat(path: str) -> Probe:
    return lambda v: [
        Call(path, NOT_FOUND, NOT_FOUND, json={"sessionId": str(v.session_id), "messages": USER_MESSAGE}),
        Call(path, OK, FORBIDDEN, json={"userId": v.owner, "messages": USER_MESSAGE}),
    ]


QUANT: dict[tuple[str, str], Probe] = {
    ("POST", "/sessions"): lambda v: [
        Call("/sessions", CREATED, FORBIDDEN, json={"userId": v.owner, "initialMessages": USER_MESSAGE})
    ],
    ("GET", "/sessions"): _sessions,
    ("GET", "/sessions/{sessionId}"): lambda v: [Call(f"/sessions/{v.session_id}", NOT_FOUND, NOT_FOUND)],
    ("PUT", "/sessions/{sessionId}"): lambda v: [
        Call(
            f"/sessions/{v.session_id}",
            NOT_FOUND,
            NOT_FOUND,
            json={
                "newMessages": USER_MESSAGE,
                "tokensUsed": 999,
                "status": "completed",
                "metadata": {"secret": None, "pwned": True},
            },
        )
    ],
    ("PUT", "/sessions/{sessionId}/extend"): lambda v: [
        Call(f"/sessions/{v.session_id}/extend", NOT_FOUND, NOT_FOUND, json={"additionalMinutes": 1440})
    ],
    ("DELETE", "/sessions/{sessionId}"): lambda v: [Call(f"/sessions/{v.session_id}", NOT_FOUND, NOT_FOUND)],
    ("POST", "/chat"): _chat("/chat"),
    ("POST", "/chat/stream"): _chat("/chat/stream"),
    ("POST", "/embeddings"): lambda v: [Call("/embeddings", ANY_ANSWER, ANY_ANSWER, json={"input": "hello"})],
    ("GET", "/models"): lambda v: [Call("/models", OK, OK)],
    ("GET", "/models/{modelId}"): lambda v: [Call("/models/scripted-text", OK, OK)],
    ("GET", "/usage"): lambda v: [
        Call("/usage", OK, OK, params={"groupBy": "user", "include": "daily"}),
        Call("/usage", OK, FORBIDDEN, params={"groupBy": "token", "userId": v.owner}),
        Call("/usage", OK, OK, params={"groupBy": "user", "tokenId": str(v.owner_token_id)}),
    ],
    ("GET", "/usage/me"): lambda v: [Call("/usage/me", OK, OK)],
    ("GET", "/config"): lambda v: [Call("/config", OK, OK)],
    ("PUT", "/config"): lambda v: [
        Call("/config", OK, FORBIDDEN, json={"system_prompt": "pwned", "requests_per_minute": 1})
    ],
}

# chatkeep's own API: Bearer tokens with the organisation in the path, as the Quant dialect.
NATIVE_PREFIX = "/native/v1/organisations/{organisation}"
NATIVE: dict[tuple[str, str], Probe] = {
    ("GET", "/conversations/{conversation_id}/export"): lambda v: [
        Call(f"/conversations/{v.session_id}/export", NOT_FOUND, NOT_FOUND),
        Call(f"/conversations/{v.session_id}/export", NOT_FOUND, NOT_FOUND, params={"format": "markdown"}),
    ],
    ("GET", "/audit"): lambda v: [
        Call("/audit", OK, FORBIDDEN),
        Call("/audit", OK, FORBIDDEN, params={"limit": "5"}),
    ],
}

WALDUR: dict[tuple[str, str], Probe] = {
    ("GET", "/api/chat-sessions/"): lambda v: [Call("/api/chat-sessions/", OK, OK)],
    ("GET", "/api/chat-sessions/current/"): lambda v: [Call("/api/chat-sessions/current/", OK, OK)],
    ("GET", "/api/chat-sessions/{uuid}/"): lambda v: [
        Call(f"/api/chat-sessions/{v.chat_session_id.hex}/", NOT_FOUND, NOT_FOUND)
    ],
    ("GET", "/api/chat-threads/"): lambda v: [
        Call("/api/chat-threads/", OK, OK),
        Call("/api/chat-threads/", OK, OK, params={"user": v.owner_uuid.hex}),
        Call("/api/chat-threads/", OK, OK, params={"query": "VICTIM"}),
    ],
    ("GET", "/api/chat-threads/{uuid}/"): lambda v: [
        Call(f"/api/chat-threads/{v.session_id.hex}/", NOT_FOUND, NOT_FOUND)
    ],
    ("POST", "/api/chat-threads/{uuid}/archive/"): lambda v: [
        Call(f"/api/chat-threads/{v.session_id.hex}/archive/", NOT_FOUND, NOT_FOUND)
    ],
    ("POST", "/api/chat-threads/{uuid}/unarchive/"): lambda v: [
        Call(f"/api/chat-threads/{v.session_id.hex}/unarchive/", NOT_FOUND, NOT_FOUND)
    ],
    ("GET", "/api/chat-threads/stats/"): lambda v: [
        Call("/api/chat-threads/stats/", OK, OK),
        Call("/api/chat-threads/stats/", OK, OK, params={"user": v.owner_uuid.hex, "total_tokens_min": "1"}),
    ],
    ("POST", "/api/chat-threads/{uuid}/cancel/"): lambda v: [
        Call(f"/api/chat-threads/{v.session_id.hex}/cancel/", NOT_FOUND, NOT_FOUND, json={})
    ],
    ("POST", "/api/chat-messages/{uuid}/feedback/"): lambda v: [
        Call(
            f"/api/chat-messages/{v.user_message_id.hex}/feedback/",
            NOT_FOUND,
            NOT_FOUND,
            json={"score": False, "comment": "pwned", "category": "other"},
        )
    ],
    ("GET", "/api/chat-quota/usage/"): lambda v: [
        Call("/api/chat-quota/usage/", OK, OK),
        Call("/api/chat-quota/usage/", HIDDEN_OR_REFUSED, FORBIDDEN, params={"user_uuid": v.owner_uuid.hex}),
    ],
    ("POST", "/api/chat-quota/set_quota/"): lambda v: [
        Call(
            "/api/chat-quota/set_quota/",
            HIDDEN_OR_REFUSED,
            FORBIDDEN,
            json={"user_uuid": v.owner_uuid.hex, "daily_limit": 0, "monthly_limit": None},
        )
    ],
    ("GET", "/api/chat-system-prompts/"): lambda v: [
        Call("/api/chat-system-prompts/", OK | FORBIDDEN, FORBIDDEN)
    ],
    ("POST", "/api/chat-system-prompts/"): lambda v: [
        Call(
            "/api/chat-system-prompts/",
            CREATED | FORBIDDEN,
            FORBIDDEN,
            json={"name": "pwned", "custom_instructions": "x"},
        )
    ],
    ("GET", "/api/chat-system-prompts/{uuid}/"): lambda v: [
        Call(f"/api/chat-system-prompts/{v.prompt_id.hex}/", HIDDEN_OR_REFUSED, FORBIDDEN)
    ],
    ("PUT", "/api/chat-system-prompts/{uuid}/"): lambda v: [
        Call(
            f"/api/chat-system-prompts/{v.prompt_id.hex}/",
            HIDDEN_OR_REFUSED,
            FORBIDDEN,
            json={"name": "pwned"},
        )
    ],
    ("PATCH", "/api/chat-system-prompts/{uuid}/"): lambda v: [
        Call(
            f"/api/chat-system-prompts/{v.prompt_id.hex}/",
            HIDDEN_OR_REFUSED,
            FORBIDDEN,
            json={"custom_instructions": "pwned"},
        )
    ],
    ("DELETE", "/api/chat-system-prompts/{uuid}/"): lambda v: [
        Call(f"/api/chat-system-prompts/{v.prompt_id.hex}/", HIDDEN_OR_REFUSED, FORBIDDEN)
    ],
    ("POST", "/api/chat-system-prompts/{uuid}/activate/"): lambda v: [
        Call(f"/api/chat-system-prompts/{v.prompt_id.hex}/activate/", HIDDEN_OR_REFUSED, FORBIDDEN, json={})
    ],
    ("POST", "/api/chat-system-prompts/{uuid}/deactivate/"): lambda v: [
        Call(f"/api/chat-system-prompts/{v.prompt_id.hex}/deactivate/", HIDDEN_OR_REFUSED, FORBIDDEN, json={})
    ],
    ("GET", "/api/chat-messages/"): lambda v: [
        Call("/api/chat-messages/", OK, OK),
        Call("/api/chat-messages/", OK, OK, params={"thread": v.session_id.hex, "include_history": "true"}),
    ],
    ("POST", "/api/chat/stream/"): lambda v: [
        Call(
            "/api/chat/stream/", NOT_FOUND, NOT_FOUND, json={"input": "hi", "thread_uuid": v.session_id.hex}
        ),
        Call(
            "/api/chat/stream/",
            NOT_FOUND,
            NOT_FOUND,
            json={"input": "again", "thread_uuid": v.session_id.hex, "mode": "reload"},
        ),
        Call(
            "/api/chat/stream/",
            NOT_FOUND,
            NOT_FOUND,
            json={
                "input": "edited",
                "thread_uuid": v.session_id.hex,
                "mode": "edit",
                "edit_message_uuid": v.user_message_id.hex,
            },
        ),
    ],
}


def _conv(v: Victim) -> str:
    return f"/v1/conversations/conv_{v.session_id.hex}"


def _resp(v: Victim) -> str:
    return f"/v1/responses/resp_{v.answer_message_id.hex}"


def _open_turn(path: str, body: dict[str, Any]) -> Probe:
    return lambda v: [
        Call(path, OK, OK, json={**body, "user": v.owner}),  # a member's `user` is only a label
        Call(path, OK, OK, json={**body, "safety_identifier": v.owner}),
    ]


# OpenAI ids carry the victim's UUIDs (conv_<hex>, resp_<hex>, msg_<hex>): every id-taking route is a probe.
OPENAI: dict[tuple[str, str], Probe] = {
    ("GET", "/v1/models"): lambda v: [Call("/v1/models", OK, OK)],
    ("GET", "/v1/models/{model}"): lambda v: [Call("/v1/models/scripted-text", OK, OK)],
    ("POST", "/v1/chat/completions"): _open_turn(
        "/v1/chat/completions", {"model": "scripted-text", "messages": USER_MESSAGE}
    ),
    ("POST", "/v1/embeddings"): lambda v: [
        Call("/v1/embeddings", ANY_ANSWER, ANY_ANSWER, json={"model": "scripted-text", "input": "hello"})
    ],
    ("POST", "/v1/conversations"): lambda v: [
        Call("/v1/conversations", OK, OK, json={"items": USER_MESSAGE, "user": v.owner})
    ],
    ("GET", "/v1/conversations/{conversation_id}"): lambda v: [Call(_conv(v), NOT_FOUND, NOT_FOUND)],
    ("POST", "/v1/conversations/{conversation_id}"): lambda v: [
        Call(_conv(v), NOT_FOUND, NOT_FOUND, json={"metadata": {"pwned": "yes"}})
    ],
    ("DELETE", "/v1/conversations/{conversation_id}"): lambda v: [Call(_conv(v), NOT_FOUND, NOT_FOUND)],
    ("GET", "/v1/conversations/{conversation_id}/items"): lambda v: [
        Call(f"{_conv(v)}/items", NOT_FOUND, NOT_FOUND, params={"order": "asc"})
    ],
    ("POST", "/v1/conversations/{conversation_id}/items"): lambda v: [
        Call(f"{_conv(v)}/items", NOT_FOUND, NOT_FOUND, json={"items": USER_MESSAGE})
    ],
    ("GET", "/v1/conversations/{conversation_id}/items/{item_id}"): lambda v: [
        Call(f"{_conv(v)}/items/msg_{v.user_message_id.hex}", NOT_FOUND, NOT_FOUND),
        Call(f"/v1/conversations/conv_{'0' * 32}/items/msg_{v.user_message_id.hex}", NOT_FOUND, NOT_FOUND),
    ],
    ("DELETE", "/v1/conversations/{conversation_id}/items/{item_id}"): lambda v: [
        Call(f"{_conv(v)}/items/msg_{v.user_message_id.hex}", NOT_FOUND, NOT_FOUND)
    ],
    ("POST", "/v1/responses"): lambda v: [
        Call(
            "/v1/responses",
            NOT_FOUND,
            NOT_FOUND,
            json={"model": "scripted-text", "input": "Repeat it", "conversation": f"conv_{v.session_id.hex}"},
        ),
        Call(
            "/v1/responses",
            NOT_FOUND,
            NOT_FOUND,
            json={
                "model": "scripted-text",
                "input": "Repeat it",
                "previous_response_id": f"resp_{v.answer_message_id.hex}",
            },
        ),
        Call("/v1/responses", OK, OK, json={"model": "scripted-text", "input": "hi", "user": v.owner}),
    ],
    ("GET", "/v1/responses/{response_id}"): lambda v: [Call(_resp(v), NOT_FOUND, NOT_FOUND)],
    ("DELETE", "/v1/responses/{response_id}"): lambda v: [Call(_resp(v), NOT_FOUND, NOT_FOUND)],
    ("GET", "/v1/responses/{response_id}/input_items"): lambda v: [
        Call(f"{_resp(v)}/input_items", NOT_FOUND, NOT_FOUND)
    ],
    ("POST", "/v1/responses/{response_id}/cancel"): lambda v: [
        Call(f"{_resp(v)}/cancel", NOT_FOUND, NOT_FOUND)
    ],
}

# How a table's routes authenticate and where they live (see test_isolation_matrix.Target).
QUANT_DIALECT, WALDUR_DIALECT, NATIVE_DIALECT, OPENAI_DIALECT = "quant", "waldur", "native", "openai"


def probes() -> dict[tuple[str, str], tuple[str, str | None, Probe]]:
    """Every attackable route → (its dialect, its Quant prefix template or None; how to attack it)."""
    table: dict[tuple[str, str], tuple[str, str | None, Probe]] = {
        (method, prefix + path): (QUANT_DIALECT, prefix, probe)
        for prefix in PREFIXES
        for (method, path), probe in QUANT.items()
    }
    table.update({key: (WALDUR_DIALECT, None, probe) for key, probe in WALDUR.items()})
    table.update(
        {
            (method, NATIVE_PREFIX + path): (NATIVE_DIALECT, NATIVE_PREFIX, probe)
            for (method, path), probe in NATIVE.items()
        }
    )
    table.update({key: (OPENAI_DIALECT, None, probe) for key, probe in OPENAI.items()})
    return table


def flat_routes(app: FastAPI) -> list[Any]:
    """Every route of the app. FastAPI ≥ 0.16x keeps included routers nested; older ones flatten them."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(iterate(app.routes)) if iterate else list(app.routes)


def is_console(path: str) -> bool:
    """The web console's routes: signed in with a session cookie, not a token, they are attacked by
    tests/unit/dialects/console/test_console_isolation.py instead of this matrix, and its one route that
    carries model text (POST /console/turns) is screened by test_console_screening.py there."""
    return path == "/" or path == "/console" or path.startswith("/console/")


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every API route of the app, routers included; HEAD goes with GET."""
    for route in flat_routes(app):
        if is_console(str(getattr(route, "path_format", ""))):
            continue
        for method in sorted((getattr(route, "methods", None) or set()) - {"HEAD"}):
            yield method, str(route.path_format)
