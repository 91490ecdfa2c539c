"""`POST /v1/embeddings`: vectors as float lists or, as the SDK asks by default, base64 float32."""

from __future__ import annotations

import base64
import struct
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from chatkeep.core import embeddings
from chatkeep.dialects.deps import DB, Limits, OpenAICaller, Registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.openai import errors
from chatkeep.dialects.openai.wire import WireModel
from chatkeep.providers.base import ProviderError

router = APIRouter(route_class=OffLoopJSONRoute, tags=["OpenAI: Embeddings"])


class EmbeddingsRequest(WireModel):
    input: str | Annotated[list[str], Field(min_length=1, max_length=100)]
    model: str = Field(min_length=1, max_length=255)
    dimensions: int | None = Field(default=None, ge=1, le=16384)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = Field(default=None, max_length=255)


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


@router.post(
    "/embeddings",
    operation_id="openaiCreateEmbeddings",
    response_model=None,
    responses={
        404: {"description": "No such model"},
        502: {"description": "The model failed"},
        504: {"description": "The model timed out"},
    },
)
async def create_embeddings(
    body: EmbeddingsRequest, caller: OpenAICaller, db: DB, registry: Registry, limits: Limits
) -> Any:
    """One vector per input text, in input order."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    try:
        result = await embeddings.embed(
            db, registry, caller, texts=texts, model_id=body.model, dimensions=body.dimensions, limits=limits
        )
    except ProviderError as exc:
        return errors.render_model_failure(exc.kind, exc.message, exc.retry_after)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
            for i, v in enumerate(result.vectors)
        ],
        "model": result.model,
        "usage": {"prompt_tokens": result.input_tokens, "total_tokens": result.input_tokens},
    }
