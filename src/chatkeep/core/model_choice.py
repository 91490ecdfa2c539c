"""Which model a call uses: a public model id resolved against the registry, in the core's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatkeep.core.errors import NotFound
from chatkeep.providers.base import ModelInfo

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry


def resolve_model(registry: ModelRegistry, model_id: str) -> ModelInfo:
    """The model with this public id; NotFound if the registry has none."""
    model = registry.get(model_id)
    if model is None:
        raise NotFound(f"model {model_id!r} is not available", field="model")
    return model
