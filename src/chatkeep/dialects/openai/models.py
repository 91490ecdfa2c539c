"""`GET /v1/models` and `GET /v1/models/{model}`: the models this organisation may use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chatkeep.core.errors import NotFound
from chatkeep.dialects.deps import OpenAICaller, Registry
from chatkeep.providers.base import ModelInfo

router = APIRouter(tags=["OpenAI: Models"])
# Models carry no creation time; a fixed one (chatkeep's first release) keeps the field an integer.
CREATED = 1_735_689_600


def render_model(model: ModelInfo) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": CREATED, "owned_by": model.provider}


@router.get("/models", operation_id="openaiListModels")
async def list_models(caller: OpenAICaller, registry: Registry) -> dict[str, Any]:
    """The organisation's enabled models."""
    models = [m for m in registry.models() if caller.config.allows(m.id)]
    return {"object": "list", "data": [render_model(m) for m in models]}


@router.get(
    "/models/{model:path}",
    operation_id="openaiRetrieveModel",
    responses={404: {"description": "Unknown, or not enabled for this organisation"}},
)
async def retrieve_model(model: str, caller: OpenAICaller, registry: Registry) -> dict[str, Any]:
    """One enabled model."""
    found = registry.get(model)
    if found is None or not caller.config.allows(found.id):
        raise NotFound(f"The model '{model}' does not exist or you do not have access to it.", field="model")
    return render_model(found)
