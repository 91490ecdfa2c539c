"""The older Quant family (`/organisations/{organisation}/ai/...`), in the shapes TS client 3.0.0 reads.

Only three operations differ from the v3 family (specs/quant-api.md, "TS client 3.0.0"); their handlers
here are mounted on that family ahead of the shared ones, and every other path is shared:
- `POST /sessions` takes `{model, title, system_prompt, max_tokens, temperature}` (no `userId`: the
  session is the caller's) and keeps all five on the session for its later turns; it answers
  `{id, model, title}` inside the v3 superset, so v3-shaped bodies still work here too.
- `GET /models` is a bare array of `{id, name, provider, capabilities: [strings]}`.
- `POST /chat` answers `response` as the answer's text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from chatkeep.core.conversations import Settings
from chatkeep.core.turns import TurnFailed
from chatkeep.core.use_cases import conversations as conversation_use
from chatkeep.dialects.deps import DB, Engine, QuantCaller, Registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.quant import errors
from chatkeep.dialects.quant.chat import MODEL_FAILED, NOT_FOUND, to_turn_request, usage_of
from chatkeep.dialects.quant.chat_schemas import ChatRequest, ChatUsageOut
from chatkeep.dialects.quant.schemas import SessionMessageIn, SessionOut, WireModel
from chatkeep.dialects.quant.sessions import new_messages, render_session
from chatkeep.providers.base import ModelInfo

router = APIRouter(route_class=OffLoopJSONRoute, tags=["AI Services (3.0.0)"])

# 3.0.0's capability strings, from chatkeep's capability names.
CAPABILITY_NAMES = {
    "text": "text",
    "image": "vision",
    "video": "video",
    "document": "document",
    "tools": "tools",
    "streaming": "streaming",
    "embeddings": "embeddings",
    "structured_output": "structured_output",
}


class LegacyCreateSessionRequest(WireModel):
    """3.0.0's CreateAISessionRequest, plus the v3 fields (all optional here)."""

    model: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=255)
    system_prompt: str | None = Field(default=None, max_length=200_000)
    max_tokens: int | None = Field(default=None, ge=1, le=65536)
    temperature: float | None = Field(default=None, ge=0, le=2)
    userId: str | None = Field(default=None, min_length=1, max_length=255)
    sessionGroup: str | None = Field(default=None, max_length=255)
    metadata: dict[str, Any] | None = None
    expirationMinutes: int = Field(default=60, ge=5, le=1440)
    initialMessages: list[SessionMessageIn] | None = Field(default=None, max_length=1000)


class LegacyModelOut(BaseModel):
    id: str
    name: str
    provider: str
    capabilities: list[str]


class LegacyChatResponse(BaseModel):
    response: str
    model: str
    usage: ChatUsageOut
    requestId: str
    finishReason: str
    sessionId: str | None = None


@router.post("/sessions", status_code=201, response_model=SessionOut, operation_id="createAISessionLegacy")
async def create_session(
    body: LegacyCreateSessionRequest, caller: QuantCaller, db: DB, registry: Registry
) -> dict[str, object]:
    """Create a session whose turns use the given model, system prompt, max_tokens and temperature."""
    conversation = await conversation_use.start(
        db,
        caller,
        user_id=body.userId,
        group=body.sessionGroup,
        metadata=body.metadata,
        # One expiry rule on every family: 3.0.0 clients never sent one, so theirs is the v3 default.
        expires_in=timedelta(minutes=body.expirationMinutes),
        title=body.title,
        settings=Settings(
            model=body.model,
            system_prompt=body.system_prompt,
            max_tokens=body.max_tokens,
            temperature=body.temperature,
        ),
        known_models={m.id for m in registry.models()},
        initial_messages=new_messages(body.initialMessages),
    )
    return render_session(conversation)


def render_model(model: ModelInfo) -> dict[str, Any]:
    capabilities = [name for cap, name in CAPABILITY_NAMES.items() if model.supports(cap)]
    return {
        "id": model.id,
        "name": model.name or model.id,
        "provider": model.provider,
        "capabilities": capabilities,
    }


@router.get("/models", response_model=list[LegacyModelOut], operation_id="listAIModelsLegacy")
async def list_models(caller: QuantCaller, registry: Registry) -> list[dict[str, Any]]:
    """Models this organisation may use, as a bare array."""
    return [render_model(m) for m in registry.models() if caller.config.allows(m.id)]


@router.post(
    "/chat",
    response_model=LegacyChatResponse,
    response_model_exclude_none=True,
    operation_id="chatInferenceLegacy",
    responses={**NOT_FOUND, **MODEL_FAILED},
)
async def chat(body: ChatRequest, caller: QuantCaller, engine: Engine) -> Any:
    """Buffered chat with the answer's text as `response`."""
    turn = await engine.open(to_turn_request(body, caller))
    result = await turn.result()
    if isinstance(result, TurnFailed):
        return errors.render_model_failure(result.kind, result.message, result.retry_after)
    return {
        "response": result.text,
        "model": turn.model.id,
        "usage": usage_of(result),
        "requestId": turn.request_id,
        "finishReason": result.finish_reason,
        "sessionId": str(turn.conversation_id) if turn.conversation_id else None,
    }
