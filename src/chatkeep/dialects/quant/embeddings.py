"""Quant embeddings: one vector for a string, a list of vectors for a list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from chatkeep.core import embeddings
from chatkeep.dialects.deps import DB, Limits, QuantCaller, Registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.quant import errors
from chatkeep.dialects.quant.schemas import WireModel
from chatkeep.providers.base import ProviderError

router = APIRouter(route_class=OffLoopJSONRoute, tags=["AI Inference"])


class EmbeddingsRequest(WireModel):
    input: str | Annotated[list[str], Field(min_length=1, max_length=100)] = Field(
        description="A text, or up to 100 texts"
    )
    modelId: str | None = Field(default=None, max_length=255)
    dimensions: int | None = Field(default=None, ge=1, le=16384)
    normalize: bool = True


@router.post(
    "/embeddings",
    operation_id="embeddings",
    response_model=None,
    responses={
        404: {"description": "No such model"},
        502: {"description": "The model failed"},
        504: {"description": "The model timed out"},
    },
)
async def embed(
    body: EmbeddingsRequest, caller: QuantCaller, db: DB, registry: Registry, limits: Limits
) -> Any:
    """Vectors for the input; the response's `embeddings` mirrors the input's shape."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    try:
        result = await embeddings.embed(
            db,
            registry,
            caller,
            texts=texts,
            model_id=body.modelId,
            dimensions=body.dimensions,
            limits=limits,
        )
    except ProviderError as exc:
        return JSONResponse(
            {"error": exc.kind, "message": exc.message}, status_code=errors.failure_status(exc.kind)
        )
    vectors = result.vectors
    return {
        "embeddings": vectors[0] if isinstance(body.input, str) else vectors,
        "model": result.model,
        "dimension": len(vectors[0]) if vectors else 0,
        "usage": {"inputTokens": result.input_tokens, "totalTokens": result.input_tokens},
    }
