"""The model registry: which public model ids exist, how to reach each, and which is the default.

It is read from the YAML models file (`CHATKEEP_MODELS_FILE`); without one, the embedded
SmolLM2-135M-Instruct is the only model and the default. The file:

```yaml
providers:                        # name -> how to reach a backend; models refer to the name
  local-vllm:
    type: openai                  # any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI)
    base_url: http://127.0.0.1:8001/v1
    api_key_env: VLLM_API_KEY     # the key is read from this environment variable, never the file
    tokenizer: cl100k_base        # optional: tiktoken encoding when the server reports no usage
    headers: {X-Team: chat}       # optional
  claude: {type: anthropic, api_key_env: ANTHROPIC_API_KEY}
  aws: {type: bedrock, region: us-east-1, profile: prod}   # credentials: the usual AWS chain
  # every remote provider also takes max_retries (2) and timeout_seconds (settings' value)
  # type: embedded takes model_path (a GGUF), context, threads
embedded: {enabled: true}         # the built-in smollm2-135m-instruct (`embedded: false` removes it)
catalogue: true                   # built-in models of providers with credentials (catalogue.py)
default_model: amazon.nova-lite-v1:0   # default: the first model of the file, else the embedded one
models:                           # listed in this order by /models
  - id: amazon.nova-lite-v1:0     # the public id clients send
    provider: aws                 # a key of providers (or `embedded`)
    upstream_model: amazon.nova-lite-v1:0   # the provider's name for it; default: id
    name: Amazon Nova Lite
    description: ""
    capabilities: [text, image, video, document, tools, streaming]
    # also: embeddings, structured_output; default [text, streaming]
    context_window: 300000        # default 8192
    max_output_tokens: 5000       # default 4096
    pricing: {input_per_m: 0.06, output_per_m: 0.24, currency: USD}   # per million tokens
    deprecated: false
    release_date: 2024-12-03
```

Unknown keys are errors, so a typo fails at startup with the file and the field in the message.
The built-in catalogue (catalogue.py) follows the file's models: well-known models of every provider
whose credentials are in the environment, less those the file lists itself (the file's entry wins).
The embedded model is appended last unless the file lists the id itself.
Providers are created on first use, one instance per provider entry.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from chatkeep.providers.anthropic.provider import AnthropicProvider
from chatkeep.providers.base import ModelInfo, Pricing, Provider, ProviderError, UnknownModel
from chatkeep.providers.bedrock.provider import BedrockProvider
from chatkeep.providers.catalogue import ProviderType, aws_region, catalogue_models, configured_providers
from chatkeep.providers.deadlines import Timeouts
from chatkeep.providers.embedded.provider import (
    EMBEDDED_MODEL_ID,
    EMBEDDED_PROVIDER,
    EmbeddedProvider,
    embedded_model_info,
)
from chatkeep.providers.models_file import (
    AnthropicProviderConfig,
    BedrockProviderConfig,
    EmbeddedProviderConfig,
    ModelConfig,
    ModelsFile,
    ModelsFileError,
    OpenAIProviderConfig,
    ProviderConfig,
    load_models_file,
)
from chatkeep.providers.openai.provider import OpenAICompatProvider
from chatkeep.providers.token_count import count_tokens

if TYPE_CHECKING:
    from chatkeep.settings import Settings

log = logging.getLogger(__name__)
_ESTIMATE_ENCODING = "cl100k_base"


class ModelRegistry:
    """Public model ids, their providers, and the default model."""

    def __init__(
        self,
        models: Sequence[ModelInfo],
        providers: Mapping[str, Provider] | None = None,
        *,
        provider_factories: Mapping[str, Callable[[], Provider]] | None = None,
        default_model_id: str | None = None,
    ) -> None:
        """A registry from ready providers and/or factories called on first use (tests pass the former)."""
        self._models = list(models)
        self._by_id = {m.id: m for m in self._models}
        self._providers: dict[str, Provider] = dict(providers or {})
        self._factories = dict(provider_factories or {})
        if not self._models:
            raise ValueError("a model registry needs at least one model")
        if len(self._by_id) != len(self._models):
            raise ValueError("model ids must be unique")
        for model in self._models:
            if model.provider not in self._providers and model.provider not in self._factories:
                raise ValueError(f"model {model.id!r} refers to unknown provider {model.provider!r}")
        self._default = default_model_id or self._models[0].id
        if self._default not in self._by_id:
            raise ValueError(f"default model {self._default!r} is not one of the models")

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        """The registry described by `settings.models_file` (ModelsFileError if it is invalid)."""
        file = load_models_file(settings.models_file) if settings.models_file else ModelsFile()
        timeouts = Timeouts(
            first_token=settings.first_token_timeout_seconds, total=settings.provider_timeout_seconds
        )
        configs: dict[str, ProviderConfig] = dict(file.providers)
        if file.embedded.enabled:
            configs.setdefault(EMBEDDED_PROVIDER, EmbeddedProviderConfig(type="embedded"))
        models = [model_info(m) for m in file.models]
        if file.catalogue.enabled:
            models += _catalogue(configs, exclude={m.id for m in models})
        embedded_listed = any(m.id == EMBEDDED_MODEL_ID for m in models)
        if file.embedded.enabled and not embedded_listed:
            embedded_config = configs[EMBEDDED_PROVIDER]
            context = getattr(embedded_config, "context", None) or settings.embedded_context
            models.append(embedded_model_info(context))
        factories = {
            name: functools.partial(build_provider, name, config, settings, timeouts)
            for name, config in configs.items()
        }
        _warn_missing_keys(configs)
        # Without a stated default: the file's first model, else the embedded one, else the catalogue's first.
        default = file.default_model or (file.models[0].id if file.models else None)
        if default is None and file.embedded.enabled:
            default = EMBEDDED_MODEL_ID
        where = settings.models_file or "(no models file)"
        if not models:
            problem = "models: no models (none listed, no embedded model, no credentials for the catalogue)"
            raise ModelsFileError(where, [problem])
        if default is not None and all(m.id != default for m in models):
            problem = f"default_model: {default!r} is not listed"
            raise ModelsFileError(where, [f"{problem} (catalogue models need their provider's credentials)"])
        return cls(models, provider_factories=factories, default_model_id=default)

    def models(self) -> list[ModelInfo]:
        """Every model, in the models file's order."""
        return list(self._models)

    def get(self, model_id: str) -> ModelInfo | None:
        """The model with this public id, or None."""
        return self._by_id.get(model_id)

    def get_or_raise(self, model_id: str) -> ModelInfo:
        """The model with this public id; UnknownModel when there is none."""
        model = self._by_id.get(model_id)
        if model is None:
            raise UnknownModel(model_id)
        return model

    @property
    def default_model_id(self) -> str:
        return self._default

    def provider_for(self, model: ModelInfo) -> Provider:
        """The provider serving `model`, created on first use and shared afterwards."""
        provider = self._providers.get(model.provider)
        if provider is None:
            factory = self._factories.get(model.provider)
            if factory is None:
                raise UnknownModel(model.id, f"model {model.id!r} has no provider {model.provider!r}")
            provider = self._providers[model.provider] = factory()
        return provider

    def count_tokens(self, model: ModelInfo, text: str) -> int:
        """The best local estimate of `text`'s tokens for `model`: its own tokenizer where the provider
        has one (embedded: exact; OpenAI-compatible: tiktoken), else tiktoken's cl100k_base."""
        counter = getattr(self.provider_for(model), "count_tokens", None)
        if callable(counter):
            try:
                return int(counter(text, model=model.upstream_model))
            except ProviderError:
                pass  # e.g. the embedded extra is missing: fall back to the estimate
        return count_tokens(text, _ESTIMATE_ENCODING)

    async def aclose(self) -> None:
        """Close every provider that was created; later calls create them anew."""
        providers, self._providers = self._providers, {}
        for name, provider in providers.items():
            try:
                await provider.aclose()
            except Exception:
                log.exception("closing provider %s failed", name)


def model_info(config: ModelConfig) -> ModelInfo:
    """A models-file entry as the ModelInfo the core uses."""
    return ModelInfo(
        id=config.id,
        provider=config.provider,
        upstream_model=config.upstream_model or config.id,
        name=config.name or config.id,
        description=config.description,
        capabilities=frozenset(config.capabilities),
        context_window=config.context_window,
        max_output_tokens=config.max_output_tokens,
        pricing=Pricing(config.pricing.input_per_m, config.pricing.output_per_m, config.pricing.currency),
        deprecated=config.deprecated,
        release_date=config.release_date,
    )


def build_provider(name: str, config: ProviderConfig, settings: Settings, timeouts: Timeouts) -> Provider:
    """A provider instance for one entry of the models file."""
    if isinstance(config, EmbeddedProviderConfig):
        return EmbeddedProvider(
            config.model_path or settings.embedded_model_path,
            name=name,
            context=config.context or settings.embedded_context,
            threads=config.threads or settings.embedded_threads,
            timeouts=timeouts,
        )
    if config.timeout_seconds is not None:
        timeouts = Timeouts(
            first_token=min(timeouts.first_token, config.timeout_seconds), total=config.timeout_seconds
        )
    if isinstance(config, OpenAIProviderConfig):
        return OpenAICompatProvider(
            name,
            base_url=config.base_url,
            api_key=os.environ.get(config.api_key_env) if config.api_key_env else None,
            timeouts=timeouts,
            max_retries=config.max_retries,
            headers=config.headers,
            tokenizer=config.tokenizer,
        )
    if isinstance(config, AnthropicProviderConfig):
        return AnthropicProvider(
            name,
            api_key=os.environ.get(config.api_key_env),
            base_url=config.base_url,
            timeouts=timeouts,
            max_retries=config.max_retries,
        )
    assert isinstance(config, BedrockProviderConfig)
    return BedrockProvider(
        name,
        region=config.region,
        profile=config.profile,
        endpoint_url=config.endpoint_url,
        timeouts=timeouts,
        max_retries=config.max_retries,
        max_concurrency=config.max_concurrency,
    )


def _catalogue(configs: dict[str, ProviderConfig], *, exclude: set[str]) -> list[ModelInfo]:
    """The catalogue models whose credentials are configured, adding their providers to `configs`.

    A models-file provider named like a family (`bedrock`, `anthropic`, `openai`) and of that type is
    used as is (its region, key variable, retries); one of another type keeps the name, and that family's
    catalogue models are left out.
    """
    usable: set[ProviderType] = set()
    for family in sorted(configured_providers()):
        declared = configs.get(family)
        if declared is None:
            configs[family] = _catalogue_provider(family)
        elif declared.type != family:
            log.warning("provider %r is a %s provider: no %s catalogue models", family, declared.type, family)
            continue
        usable.add(family)
    bedrock = configs.get("bedrock")
    region = (bedrock.region if isinstance(bedrock, BedrockProviderConfig) else None) or aws_region(
        os.environ
    )
    return catalogue_models(usable, bedrock_region=region, exclude=exclude)


def _catalogue_provider(family: ProviderType) -> ProviderConfig:
    if family == "bedrock":
        return BedrockProviderConfig(type="bedrock")
    if family == "anthropic":
        return AnthropicProviderConfig(type="anthropic")
    return OpenAIProviderConfig(type="openai", api_key_env="OPENAI_API_KEY")


def _warn_missing_keys(configs: Mapping[str, ProviderConfig]) -> None:
    for name, config in configs.items():
        env = getattr(config, "api_key_env", None)
        if env and not os.environ.get(env):
            log.warning("provider %s: environment variable %s is not set; its calls will fail", name, env)
