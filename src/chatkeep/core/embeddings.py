"""Embeddings: vectors for texts from a model that can embed, accounted like any other call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatkeep.core import org_config
from chatkeep.core import usage as usage_ledger
from chatkeep.core.callers import Caller
from chatkeep.core.errors import InvalidInput
from chatkeep.core.limits import Limits
from chatkeep.core.model_choice import resolve_model
from chatkeep.providers.base import ModelInfo
from chatkeep.storage.database import Database

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry

MAX_TEXTS = 100


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]
    model: str
    input_tokens: int


async def embed(
    db: Database,
    registry: ModelRegistry,
    caller: Caller,
    *,
    texts: list[str],
    model_id: str | None,
    dimensions: int | None = None,
    limits: Limits | None = None,
) -> Embeddings:
    """Embed up to 100 texts; a ProviderError propagates for the dialect to render."""
    if not texts or len(texts) > MAX_TEXTS:
        raise InvalidInput(f"input must hold 1 to {MAX_TEXTS} texts", field="texts")
    principal, config = caller.principal, caller.config
    limits = limits or Limits()
    if limits.has_quota(config):
        async with db.read() as session:
            await limits.check_quota(session, principal=principal, config=config)
    # Enabled first: what a model can do is no business of an organisation that may not use it.
    model = resolve_model(registry, model_id, config) if model_id else _default_embedder(registry, config)
    if not model.supports("embeddings"):
        raise InvalidInput(f"model {model.id!r} cannot embed", field="model")
    started = time.monotonic()
    status = "failed"
    result = None
    try:
        result = await registry.provider_for(model).embed(
            texts, model=model.upstream_model, dimensions=dimensions
        )
        status = "complete"
        return Embeddings(vectors=result.vectors, model=model.id, input_tokens=result.input_tokens)
    finally:  # failed calls are accounted too
        async with db.write() as session:
            await usage_ledger.record(
                session,
                principal=principal,
                user_id=principal.user_id,
                model=model.id,
                input_tokens=result.input_tokens if result else 0,
                output_tokens=0,
                latency_ms=int((time.monotonic() - started) * 1000),
                status=status,
                cost_cents=(result.input_tokens if result else 0)
                * model.pricing.input_per_m
                / 1_000_000
                * 100,
                kind="embedding",
            )


def _default_embedder(registry: ModelRegistry, config: org_config.AIConfig) -> ModelInfo:
    for model in registry.models():
        if model.supports("embeddings") and config.allows(model.id):
            return model
    raise InvalidInput("no model that can embed is configured", field="model")
