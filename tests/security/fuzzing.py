"""The schemathesis setup shared by the fuzz test and `bench/fuzz.py`: checks, tenants and credentials.

Every operation in chatkeep's own OpenAPI document is called with a valid admin token (Bearer for Quant
paths, Token for Waldur paths) and that tenant's name as `{organisation}`, so generated input reaches
the handlers instead of stopping at 401 or 403. Three tenants keep the run fast and deep:
- Quant calls act in one tenant that has a seeded session: a generated session id that is a well-formed
  UUID is replaced by it (except for DELETE), so updates with random bodies reach the core; OpenAI calls
  (Bearer, no organisation in the path) act there too, every conversation id but DELETE's aimed at it;
- `PUT …/config` runs in a tenant of its own: the limits the fuzzer sets there would throttle the rest;
- Waldur calls act in a tenant with a seeded thread (used the same way), whose unpaginated message list
  does not grow with the thousands of Quant turns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from chatkeep.app import create_app
from chatkeep.core import api_tokens, chat_sessions, conversations
from chatkeep.core.conversations import NewMessage
from chatkeep.dialects.errors import WALDUR_PREFIX
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.support import Tenant, make_tenant

CONFIG_OPERATION = "updateAIConfig"
SEEDED_SESSION_OPERATIONS = frozenset({"getAISession", "updateAISession", "extendAISession"})
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
)
# Invalid input is still generated (mode "all") and must get a documented non-5xx answer, but whether it
# is *refused* is not checked: pydantic's lax mode accepts 0 for false and "5" for 5, and the Waldur
# filters ignore empty or unknown values as django-filter does. Both are deliberate leniency, and
# `negative_data_rejection` reports every instance. `bench/fuzz.py --negative-rejection` lists them.
LENIENCY_CHECK = "negative_data_rejection"


@dataclass(frozen=True)
class FuzzWorld:
    quant: Tenant
    config: Tenant
    waldur: Tenant
    session_id: str  # a Quant session of `quant`
    thread_hex: str  # a thread of `waldur`'s admin
    chat_session_hex: str  # that admin's chat session


async def seed_world(db: Database) -> FuzzWorld:
    """The three tenants, a long-lived session and a thread with a few messages."""
    quant, config_tenant, waldur = await make_tenant(db), await make_tenant(db), await make_tenant(db)
    async with db.write() as session:
        quant_admin = (await api_tokens.authenticate(session, secret=quant.admin)).principal
        waldur_admin = (await api_tokens.authenticate(session, secret=waldur.admin)).principal
        seeded = await conversations.create(
            session,
            principal=quant_admin,
            user_id="fuzz-user",
            metadata={"seeded": True},
            expires_in=timedelta(hours=12),
            initial_messages=[NewMessage("user", "Hello"), NewMessage("assistant", "Hi there")],
        )
        thread = await conversations.create(
            session,
            principal=waldur_admin,
            title="Seeded thread",
            initial_messages=[NewMessage("user", "Question"), NewMessage("assistant", "Answer")],
        )
        chat_session = chat_sessions.session_id(waldur_admin.org_id, waldur_admin.user_id)
        return FuzzWorld(quant, config_tenant, waldur, str(seeded.id), thread.id.hex, chat_session.hex)


def config(
    *,
    max_examples: int,
    seed: int | None = None,
    deterministic: bool = False,
    checks: tuple[str, ...] = CHECKS,
) -> dict[str, Any]:
    """The schemathesis configuration (the dict form of schemathesis.toml)."""
    return {
        **({"seed": seed} if seed is not None else {}),
        "generation": {
            "max-examples": max_examples,
            "deterministic": deterministic,
            "mode": "all",
            # chatkeep refuses U+0000 anywhere with a 400 (dialects/storable_input.py, tested on its own
            # in test_bad_input); generating it would make every string field a "rejected valid input".
            "allow-x00": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
        "operations": [
            {
                # The same request model and TurnEngine.open() as chatInference, which gets the
                # coverage phase's hundreds of boundary cases; the stream differs only in how it renders.
                "include-operation-id": "chatInferenceStream",
                "phases": {"coverage": {"enabled": False}},
            },
            {
                # A turn has rules JSON Schema cannot state: continuing a session, the last message must
                # be the user's; a model must have the capability for the media it is sent.
                "include-operation-id": ["chatInference", "chatInferenceStream"],
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {
                # The OpenAI dialect's turns have the same rules beyond JSON Schema, and its items carry
                # data URLs whose media type and base64 payload are checked against the allowed formats,
                # and function-call arguments that must be a JSON object inside a string.
                "include-operation-id": [
                    "openaiCreateChatCompletion",
                    "openaiCreateResponse",
                    "openaiCreateConversation",
                    "openaiCreateConversationItems",
                ],
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {
                "include-operation-id": CONFIG_OPERATION,
                # Model ids and guard categories are checked against the server's registry and rule set,
                # which a static schema cannot list: a random id is rightly refused.
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ],
    }


def document() -> dict[str, Any]:
    """chatkeep's OpenAPI document, built the way the server builds it (no database needed)."""
    app = create_app(Settings(database_url="sqlite+aiosqlite://", bootstrap=False))
    return app.openapi()


def load_schema(document: dict[str, Any], settings: dict[str, Any]) -> OpenApiSchema:
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict(settings))


def prepare(case: Case, world: FuzzWorld) -> dict[str, str]:
    """Point the case at its tenant and seeded rows; returns the headers to send it with."""
    operation_id = case.operation.definition.raw.get("operationId")
    waldur = case.path.startswith(WALDUR_PREFIX)
    tenant = world.config if operation_id == CONFIG_OPERATION else world.waldur if waldur else world.quant
    params = dict(case.path_parameters or {})
    if "organisation" in params:
        params["organisation"] = tenant.name
    if operation_id in SEEDED_SESSION_OPERATIONS and _is_uuid(params.get("sessionId")):
        params["sessionId"] = world.session_id
    if "conversation_id" in params and case.method.upper() != "DELETE":
        # OpenAI ids are conv_<hex>: aim the seeded session's id at the operations that read or extend it.
        params["conversation_id"] = "conv_" + uuid.UUID(world.session_id).hex
    if waldur and _is_uuid(params.get("uuid")):
        params["uuid"] = world.chat_session_hex if "chat-sessions" in case.path else world.thread_hex
    case.path_parameters = params
    return {"Authorization": f"{'Token' if waldur else 'Bearer'} {tenant.admin}"}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
