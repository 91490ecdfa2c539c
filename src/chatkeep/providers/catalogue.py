"""Built-in model catalogue: well-known models, listed as soon as their provider's credentials are configured.

A user with AWS credentials should not have to type a context window or a price to use
`amazon.nova-lite-v1:0`. Each provider family is enabled by its environment:

- Bedrock (`bedrock`): AWS credentials (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, a web
  identity token or a container credentials URI) and a region (`AWS_REGION` or `AWS_DEFAULT_REGION`).
- Anthropic (`anthropic`): `ANTHROPIC_API_KEY`.
- OpenAI (`openai`): `OPENAI_API_KEY`.

Models-file entries with the same id replace catalogue entries, and a models-file provider of the same
name (and type) is the one used, so a file can change a price or a region without repeating the rest.
`catalogue: false` in the models file turns the catalogue off.

Prices are USD per million tokens as the providers published them (on-demand, standard tier); context
windows and output limits are the providers' documented ones. Claude models from Claude 3.7 on are only
served on Bedrock through cross-region inference profiles: the public id stays the model id, and the
call goes to the profile of the configured region's geography (`us.`, `eu.`, `apac.`).
OpenAI's reasoning models (o-series, gpt-5) take different request parameters and are left out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from chatkeep.providers.base import ModelInfo, Pricing

ProviderType = Literal["bedrock", "anthropic", "openai"]

_CHAT = ("text", "tools", "streaming", "structured_output")
_VISION = (*_CHAT, "image", "document")
_NOVA_MEDIA = (*_VISION, "video")
_EMBEDDINGS = ("embeddings",)
_GPT = ("text", "image", "tools", "streaming", "structured_output")


@dataclass(frozen=True, slots=True)
class CatalogueModel:
    """One catalogue entry; `provider` is the provider type, which is also its provider's name."""

    provider: ProviderType
    id: str
    name: str
    capabilities: tuple[str, ...]
    context_window: int
    max_output_tokens: int
    input_per_m: float
    output_per_m: float
    release_date: str | None = None
    inference_profile: bool = False  # Bedrock: called through the region's cross-region profile

    def info(self, upstream_model: str | None = None) -> ModelInfo:
        return ModelInfo(
            id=self.id,
            provider=self.provider,
            upstream_model=upstream_model or self.id,
            name=self.name,
            description=f"{self.name} (built-in catalogue)",
            capabilities=frozenset(self.capabilities),
            context_window=self.context_window,
            max_output_tokens=self.max_output_tokens,
            pricing=Pricing(self.input_per_m, self.output_per_m, "USD"),
            release_date=self.release_date,
        )


def _m(
    provider: ProviderType,
    id: str,
    name: str,
    capabilities: tuple[str, ...],
    window: int,
    output: int,
    prices: tuple[float, float],
    date: str | None = None,
    *,
    profile: bool = False,
) -> CatalogueModel:
    return CatalogueModel(provider, id, name, capabilities, window, output, *prices, date, profile)


CATALOGUE: tuple[CatalogueModel, ...] = (
    # Amazon Nova and Titan on Bedrock.
    _m(
        "bedrock",
        "amazon.nova-micro-v1:0",
        "Amazon Nova Micro",
        _CHAT,
        128_000,
        10_000,
        (0.035, 0.14),
        "2024-12-03",
    ),
    _m(
        "bedrock",
        "amazon.nova-lite-v1:0",
        "Amazon Nova Lite",
        _NOVA_MEDIA,
        300_000,
        10_000,
        (0.06, 0.24),
        "2024-12-03",
    ),
    _m(
        "bedrock",
        "amazon.nova-pro-v1:0",
        "Amazon Nova Pro",
        _NOVA_MEDIA,
        300_000,
        10_000,
        (0.80, 3.20),
        "2024-12-03",
    ),
    _m(
        "bedrock",
        "amazon.titan-embed-text-v2:0",
        "Amazon Titan Text Embeddings V2",
        _EMBEDDINGS,
        8_192,
        1,
        (0.02, 0.0),
    ),
    _m("bedrock", "cohere.embed-english-v3", "Cohere Embed English v3", _EMBEDDINGS, 512, 1, (0.10, 0.0)),
    _m(
        "bedrock",
        "cohere.embed-multilingual-v3",
        "Cohere Embed Multilingual v3",
        _EMBEDDINGS,
        512,
        1,
        (0.10, 0.0),
    ),
    # Claude on Bedrock.
    _m(
        "bedrock",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Claude 3 Haiku",
        _VISION,
        200_000,
        4_096,
        (0.25, 1.25),
        "2024-03-07",
    ),
    _m(
        "bedrock",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku",
        _CHAT,
        200_000,
        8_192,
        (0.80, 4.0),
        "2024-10-22",
    ),
    _m(
        "bedrock",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "Claude 3.5 Sonnet v2",
        _VISION,
        200_000,
        8_192,
        (3.0, 15.0),
        "2024-10-22",
    ),
    _m(
        "bedrock",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "Claude Sonnet 4",
        _VISION,
        200_000,
        64_000,
        (3.0, 15.0),
        "2025-05-14",
        profile=True,
    ),
    _m(
        "bedrock",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5",
        _VISION,
        200_000,
        64_000,
        (3.0, 15.0),
        "2025-09-29",
        profile=True,
    ),
    _m(
        "bedrock",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "Claude Haiku 4.5",
        _VISION,
        200_000,
        64_000,
        (1.0, 5.0),
        "2025-10-01",
        profile=True,
    ),
    _m(
        "bedrock",
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "Claude Opus 4.5",
        _VISION,
        200_000,
        64_000,
        (5.0, 25.0),
        "2025-11-01",
        profile=True,
    ),
    # Claude on Anthropic's own API (its aliases follow the latest snapshot).
    _m(
        "anthropic",
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        _VISION,
        200_000,
        64_000,
        (1.0, 5.0),
        "2025-10-01",
    ),
    _m(
        "anthropic",
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        _VISION,
        200_000,
        64_000,
        (3.0, 15.0),
        "2025-09-29",
    ),
    _m(
        "anthropic", "claude-opus-4-5", "Claude Opus 4.5", _VISION, 200_000, 64_000, (5.0, 25.0), "2025-11-01"
    ),
    _m(
        "anthropic",
        "claude-sonnet-4-0",
        "Claude Sonnet 4",
        _VISION,
        200_000,
        64_000,
        (3.0, 15.0),
        "2025-05-14",
    ),
    _m(
        "anthropic",
        "claude-3-5-haiku-latest",
        "Claude 3.5 Haiku",
        _VISION,
        200_000,
        8_192,
        (0.80, 4.0),
        "2024-10-22",
    ),
    # OpenAI.
    _m("openai", "gpt-4o", "GPT-4o", _GPT, 128_000, 16_384, (2.50, 10.0)),
    _m("openai", "gpt-4o-mini", "GPT-4o mini", _GPT, 128_000, 16_384, (0.15, 0.60)),
    _m("openai", "gpt-4.1", "GPT-4.1", _GPT, 1_047_576, 32_768, (2.0, 8.0)),
    _m("openai", "gpt-4.1-mini", "GPT-4.1 mini", _GPT, 1_047_576, 32_768, (0.40, 1.60)),
    _m("openai", "gpt-4.1-nano", "GPT-4.1 nano", _GPT, 1_047_576, 32_768, (0.10, 0.40)),
    _m(
        "openai",
        "text-embedding-3-small",
        "OpenAI text-embedding-3-small",
        _EMBEDDINGS,
        8_191,
        1,
        (0.02, 0.0),
    ),
    _m(
        "openai",
        "text-embedding-3-large",
        "OpenAI text-embedding-3-large",
        _EMBEDDINGS,
        8_191,
        1,
        (0.13, 0.0),
    ),
)
CATALOGUE_IDS = frozenset(m.id for m in CATALOGUE)

_AWS_CREDENTIALS = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE",),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
)
_PROFILE_GEOGRAPHY = {"us": "us", "eu": "eu", "ap": "apac"}


def configured_providers(environ: Mapping[str, str] | None = None) -> set[ProviderType]:
    """The provider families whose credentials the environment holds."""
    env = os.environ if environ is None else environ
    found: set[ProviderType] = set()
    has_region = bool(aws_region(env))
    if has_region and any(all(env.get(name) for name in names) for names in _AWS_CREDENTIALS):
        found.add("bedrock")
    if env.get("ANTHROPIC_API_KEY"):
        found.add("anthropic")
    if env.get("OPENAI_API_KEY"):
        found.add("openai")
    return found


def aws_region(environ: Mapping[str, str]) -> str | None:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None


def bedrock_upstream(model: CatalogueModel, region: str | None) -> str:
    """The model id to call in `region`: the geography's inference profile where the model needs one."""
    if not model.inference_profile:
        return model.id
    geography = _PROFILE_GEOGRAPHY.get((region or "").split("-", 1)[0], "global")
    return f"{geography}.{model.id}"


def catalogue_models(
    providers: set[ProviderType], *, bedrock_region: str | None = None, exclude: set[str] | None = None
) -> list[ModelInfo]:
    """The catalogue's models of the given provider families, in catalogue order, less `exclude`d ids."""
    out = []
    for model in CATALOGUE:
        if model.provider not in providers or model.id in (exclude or set()):
            continue
        upstream = bedrock_upstream(model, bedrock_region) if model.provider == "bedrock" else None
        out.append(model.info(upstream))
    return out
