"""The built-in offline model (SmolLM2-135M-Instruct through llama-cpp-python, the [embedded] extra)."""

from __future__ import annotations

from chatkeep.providers.embedded.provider import (
    EMBEDDED_MODEL_ID,
    EMBEDDED_PROVIDER,
    EmbeddedProvider,
    bundled_model_path,
    embedded_model_info,
)

__all__ = [
    "EMBEDDED_MODEL_ID",
    "EMBEDDED_PROVIDER",
    "EmbeddedProvider",
    "bundled_model_path",
    "embedded_model_info",
]
