"""The models file: its schema (pydantic) and loading it with errors that name the file and the field.

See registry.py for the file's format and an example, and catalogue.py for the built-in models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatkeep.providers.catalogue import CATALOGUE_IDS
from chatkeep.providers.embedded.provider import EMBEDDED_MODEL_ID, EMBEDDED_PROVIDER

Capability = Literal[
    "text", "image", "video", "document", "tools", "streaming", "embeddings", "structured_output"
]
PROVIDER_TYPES = ("openai", "anthropic", "bedrock", "embedded")
DEFAULT_CAPABILITIES: tuple[Capability, ...] = ("text", "streaming")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Remote(_Strict):
    max_retries: int = Field(default=2, ge=0, description="SDK retries before a call fails.")
    timeout_seconds: float | None = Field(
        default=None, gt=0, description="Whole-call limit; default: settings.provider_timeout_seconds."
    )


class OpenAIProviderConfig(_Remote):
    type: Literal["openai"]
    base_url: str | None = Field(default=None, description="Default: OpenAI's own API.")
    api_key_env: str | None = Field(default=None, description="Environment variable holding the API key.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers on every call.")
    tokenizer: Literal["cl100k_base", "o200k_base"] | None = Field(
        default=None, description="tiktoken encoding for counting tokens the server does not report."
    )


class AnthropicProviderConfig(_Remote):
    type: Literal["anthropic"]
    api_key_env: str = "ANTHROPIC_API_KEY"
    base_url: str | None = None


class BedrockProviderConfig(_Remote):
    type: Literal["bedrock"]
    region: str | None = Field(default=None, description="Default: the AWS chain (AWS_REGION, profile).")
    profile: str | None = None
    endpoint_url: str | None = None
    max_concurrency: int = Field(default=16, ge=1, description="Streams running at once (one thread each).")


class EmbeddedProviderConfig(_Strict):
    type: Literal["embedded"]
    model_path: Path | None = Field(default=None, description="A GGUF file; default: the bundled SmolLM2.")
    context: int | None = Field(default=None, ge=256, description="Default: settings.embedded_context.")
    threads: int | None = Field(default=None, ge=1)


ProviderConfig = Annotated[
    OpenAIProviderConfig | AnthropicProviderConfig | BedrockProviderConfig | EmbeddedProviderConfig,
    Field(discriminator="type"),
]


class PricingConfig(_Strict):
    input_per_m: float = Field(default=0.0, ge=0)
    output_per_m: float = Field(default=0.0, ge=0)
    currency: str = "USD"


class ModelConfig(_Strict):
    id: str = Field(min_length=1, description="The public model id clients send.")
    provider: str = Field(min_length=1, description="A key of `providers`, or `embedded`.")
    upstream_model: str | None = Field(default=None, description="The provider's model name; default: id.")
    name: str | None = None
    description: str = ""
    capabilities: list[Capability] = Field(default_factory=lambda: list(DEFAULT_CAPABILITIES))
    context_window: int = Field(default=8192, gt=0)
    max_output_tokens: int = Field(default=4096, gt=0)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    deprecated: bool = False
    release_date: str | None = None

    @field_validator("release_date", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)  # YAML reads 2024-12-03 as a date


class EmbeddedSwitch(_Strict):
    enabled: bool = True


class CatalogueSwitch(_Strict):
    enabled: bool = True


class ModelsFile(_Strict):
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    default_model: str | None = None
    embedded: EmbeddedSwitch = Field(default_factory=EmbeddedSwitch)
    catalogue: CatalogueSwitch = Field(default_factory=CatalogueSwitch)
    models: list[ModelConfig] = Field(default_factory=list)

    @field_validator("embedded", "catalogue", mode="before")
    @classmethod
    def _switch_from_bool(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value


class ModelsFileError(ValueError):
    """The models file cannot be used; the message names the file and each bad field."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(
            f"models file {path}: "
            + ("; ".join(problems) if len(problems) == 1 else "\n  " + "\n  ".join(problems))
        )


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as `models[2].pricing.input_per_m`, without union tags."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 2 and loc[0] == "providers" and part in PROVIDER_TYPES:
            continue  # the discriminator's tag, which the file never spells
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_models_file(text: str, path: Path | str = "<string>") -> ModelsFile:
    """Parse and validate the YAML text of a models file; ModelsFileError on any problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelsFileError(path, [f"not valid YAML: {exc}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ModelsFileError(path, ["(top level): expected a mapping with providers/models"])
    try:
        parsed = ModelsFile.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ModelsFileError(path, problems) from None
    problems = reference_problems(parsed)
    if problems:
        raise ModelsFileError(path, problems)
    return parsed


def load_models_file(path: Path) -> ModelsFile:
    """Read and validate the models file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelsFileError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    return parse_models_file(text, path)


def reference_problems(parsed: ModelsFile) -> list[str]:
    """Checks across fields: unique ids, known providers, a default that exists."""
    problems: list[str] = []
    providers = set(parsed.providers)
    if parsed.embedded.enabled:
        providers.add(EMBEDDED_PROVIDER)
        declared = parsed.providers.get(EMBEDDED_PROVIDER)
        if declared is not None and declared.type != "embedded":
            problems.append(f"providers.{EMBEDDED_PROVIDER}: the name is reserved for the embedded model")
    seen: set[str] = set()
    for i, model in enumerate(parsed.models):
        if model.id in seen:
            problems.append(f"models[{i}].id: duplicate model id {model.id!r}")
        seen.add(model.id)
        if model.provider not in providers:
            known = ", ".join(sorted(providers)) or "none"
            problems.append(f"models[{i}].provider: unknown provider {model.provider!r} (declared: {known})")
    if parsed.embedded.enabled:
        seen.add(EMBEDDED_MODEL_ID)
    if parsed.catalogue.enabled:
        # Whether a catalogue model is listed depends on the credentials at startup; the registry checks.
        seen |= CATALOGUE_IDS
    if parsed.default_model is not None and parsed.default_model not in seen:
        problems.append(f"default_model: {parsed.default_model!r} is not one of the models")
    if not seen:
        problems.append(
            "models: no models (the embedded model and the catalogue are off and none are listed)"
        )
    return problems
