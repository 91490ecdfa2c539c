"""Quant model catalogue: list (with a feature filter) and get."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from chatkeep.dialects.deps import QuantCaller, Registry
from chatkeep.providers.base import ModelInfo

router = APIRouter(tags=["AI Models"])

# feature → the capability a model needs to be listed; unknown features (e.g. image_generation) list nothing.
FEATURES = {"chat": "text", "embeddings": "embeddings", "vision": "image", "streaming": "streaming"}


def render_model(model: ModelInfo, available: bool = True) -> dict[str, Any]:
    """Both capability vocabularies (list schema and detail schema), so every client finds its own."""
    multimodal = any(model.supports(k) for k in ("image", "video", "document"))
    body: dict[str, Any] = {
        "id": model.id,
        "name": model.name or model.id,
        "provider": model.provider,
        "description": model.description,
        "contextWindow": model.context_window,
        "maxOutputTokens": model.max_output_tokens,
        "capabilities": {
            "text": model.supports("text"),
            "multimodal": multimodal,
            "embeddings": model.supports("embeddings"),
            "streaming": model.supports("streaming"),
            "toolUse": model.supports("tools"),
            "supportsTools": model.supports("tools"),
            "supportsStructuredOutput": model.supports("structured_output"),
            "supportsMultimodal": multimodal,
            "supportsVision": model.supports("image"),
            "supportsStreaming": model.supports("streaming"),
        },
        "supportsTools": model.supports("tools"),
        "supportsStructuredOutput": model.supports("structured_output"),
        "supportsVision": model.supports("image"),
        "supportsMultimodal": multimodal,
        "supportedFeatures": [f for f, cap in FEATURES.items() if model.supports(cap)],
        "pricing": {
            "inputPerMToken": model.pricing.input_per_m,
            "outputPerMToken": model.pricing.output_per_m,
            "currency": model.pricing.currency,
        },
        "deprecated": model.deprecated,
        "available": available,
    }
    if model.release_date:
        body["releaseDate"] = model.release_date
    return body


@router.get("/models", operation_id="listAIModels")
async def list_models(
    caller: QuantCaller,
    registry: Registry,
    feature: Annotated[str, Query(max_length=64)] = "all",
) -> dict[str, Any]:
    """Models this organisation may use, optionally only those with a feature."""
    models = [m for m in registry.models() if caller.config.allows(m.id)]
    if feature != "all":
        needed = FEATURES.get(feature)
        models = [m for m in models if needed is not None and m.supports(needed)]
    return {"count": len(models), "models": [render_model(m) for m in models]}


@router.get(
    "/models/{modelId:path}",
    operation_id="getAIModel",
    response_model=None,
    responses={404: {"description": "MODEL_NOT_FOUND: unknown, or not enabled for this organisation"}},
)
async def get_model(modelId: str, caller: QuantCaller, registry: Registry) -> Any:
    """One model's details; 404 `MODEL_NOT_FOUND` for unknown or disabled models."""
    model = registry.get(modelId)
    if model is None or not caller.config.allows(model.id):
        return JSONResponse(
            {"message": f"Model {modelId!r} not found", "code": "MODEL_NOT_FOUND", "error": "not_found"},
            status_code=404,
        )
    return render_model(model)
