"""Which model a call uses: a public model id resolved against the registry, in the core's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatkeep.core.errors import NotFound
from chatkeep.providers.base import ModelInfo

if TYPE_CHECKING:
    from chatkeep.core.org_config import AIConfig
    from chatkeep.providers.registry import ModelRegistry


def resolve_model(registry: ModelRegistry, model_id: str, config: AIConfig | None = None) -> ModelInfo:
    """The model with this public id; NotFound if the registry has none or `config` does not enable it.

    Unknown and not enabled answer alike, so an organisation cannot learn which models the server has
    beyond those it may use.
    """
    model = registry.get(model_id)
    if model is None or (config is not None and not config.allows(model.id)):
        raise NotFound(f"model {model_id!r} is not available", field="model")
    return model
