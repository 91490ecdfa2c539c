"""The model registry: the models file, its validation errors, defaults, lazy providers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkeep.providers.anthropic import AnthropicProvider
from chatkeep.providers.base import (
    ChatRequest,
    EmbeddingResult,
    ModelInfo,
    Pricing,
    ProviderEvent,
    UnknownModel,
)
from chatkeep.providers.bedrock import BedrockProvider
from chatkeep.providers.embedded import EmbeddedProvider
from chatkeep.providers.models_file import ModelsFileError, parse_models_file
from chatkeep.providers.openai import OpenAICompatProvider
from chatkeep.providers.registry import ModelRegistry
from chatkeep.providers.token_count import count_tokens
from chatkeep.settings import Settings

EXAMPLE = Path(__file__).parents[3] / "examples" / "models.yaml"


def registry_for(tmp_path: Path, text: str) -> ModelRegistry:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    return ModelRegistry.from_settings(Settings(models_file=path))


def test_without_a_models_file_the_embedded_model_is_all_there_is() -> None:
    registry = ModelRegistry.from_settings(Settings(models_file=None, embedded_context=3072))
    [model] = registry.models()
    assert model.id == "smollm2-135m-instruct" and registry.default_model_id == model.id
    assert model.context_window == 3072
    assert isinstance(registry.provider_for(model), EmbeddedProvider)


def test_example_file_loads_in_file_order_with_embedded_last() -> None:
    registry = ModelRegistry.from_settings(Settings(models_file=EXAMPLE))
    ids = [m.id for m in registry.models()]
    assert ids[0] == "amazon.nova-lite-v1:0" and ids[-1] == "smollm2-135m-instruct"
    assert registry.default_model_id == "amazon.nova-lite-v1:0"
    nova = registry.get_or_raise("amazon.nova-lite-v1:0")
    assert nova.provider == "aws" and nova.upstream_model == "amazon.nova-lite-v1:0"
    assert nova.capabilities == frozenset({"text", "image", "video", "document", "tools", "streaming"})
    assert (nova.context_window, nova.max_output_tokens) == (300000, 5000)
    assert nova.pricing == Pricing(0.06, 0.24, "USD")
    assert isinstance(registry.provider_for(nova), BedrockProvider)
    assert isinstance(registry.provider_for(registry.get_or_raise("claude-sonnet")), AnthropicProvider)
    assert isinstance(
        registry.provider_for(registry.get_or_raise("qwen2.5-7b-instruct")), OpenAICompatProvider
    )


def test_defaults_of_a_minimal_entry(tmp_path: Path) -> None:
    registry = registry_for(
        tmp_path,
        "providers: {local: {type: openai, base_url: 'http://127.0.0.1:9/v1'}}\n"
        "models:\n  - {id: small, provider: local, release_date: 2024-12-03}\n",
    )
    small = registry.get_or_raise("small")
    assert registry.default_model_id == "small"  # the first listed model when no default is named
    assert (small.upstream_model, small.name) == ("small", "small")
    assert small.capabilities == frozenset({"text", "streaming"})
    assert small.release_date == "2024-12-03"
    assert [m.id for m in registry.models()] == ["small", "smollm2-135m-instruct"]


def test_embedded_can_be_disabled(tmp_path: Path) -> None:
    registry = registry_for(
        tmp_path, "embedded: false\nproviders: {c: {type: anthropic}}\nmodels: [{id: c1, provider: c}]\n"
    )
    assert [m.id for m in registry.models()] == ["c1"]
    assert registry.get("smollm2-135m-instruct") is None


def test_the_file_may_list_the_embedded_model_itself(tmp_path: Path) -> None:
    registry = registry_for(
        tmp_path,
        "models:\n  - {id: smollm2-135m-instruct, provider: embedded, name: Tiny, context_window: 1024}\n",
    )
    [model] = registry.models()
    assert model.name == "Tiny" and model.context_window == 1024


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            "models: [{id: a, provider: embedded, context_windw: 5}]",
            "models[0].context_windw",
            "Extra inputs",
        ),
        (
            "models: [{id: a, provider: embedded, context_window: -1}]",
            "models[0].context_window",
            "greater than 0",
        ),
        (
            "models: [{id: a, provider: embedded, capabilities: [text, telepathy]}]",
            "models[0].capabilities[1]",
            "text",
        ),
        ("models: [{id: a, provider: nowhere}]", "models[0].provider", "unknown provider 'nowhere'"),
        ("models: [{id: a, provider: embedded}, {id: a, provider: embedded}]", "models[1].id", "duplicate"),
        ("default_model: gpt-9\n", "default_model", "'gpt-9' is not one of the models"),
        ("providers: {x: {type: ollama}}", "providers.x", "does not match any of the expected tags"),
        ("providers: {x: {type: openai, base_ur: y}}", "providers.x.base_ur", "Extra inputs"),
        (
            "providers: {x: {type: bedrock, max_concurrency: 0}}",
            "providers.x.max_concurrency",
            "greater than",
        ),
        ("providers: {embedded: {type: openai}}", "providers.embedded", "reserved"),
        ("embedded: false\n", "models", "no models"),
        ("models: [{provider: embedded}]", "models[0].id", "Field required"),
        ("models: {id: a}", "models", "valid list"),
        ("- just\n- a list\n", "(top level)", "mapping"),
        ("models: [unclosed", "not valid YAML", "line"),
    ],
)
def test_validation_errors_name_the_file_and_field(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(ModelsFileError) as caught:
        ModelRegistry.from_settings(Settings(models_file=path))
    message = str(caught.value)
    assert str(path) in message
    assert field in message and words in message, message


def test_schema_errors_are_reported_before_reference_checks() -> None:
    text = "models: [{id: a, provider: x}, {id: b, provider: y, max_output_tokens: 0}]"
    with pytest.raises(ModelsFileError) as caught:
        parse_models_file(text, "inline.yaml")
    assert len(caught.value.problems) == 1  # schema errors first; references are checked on a valid file
    assert caught.value.problems[0].startswith("models[1].max_output_tokens")


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelsFileError) as caught:
        ModelRegistry.from_settings(Settings(models_file=tmp_path / "absent.yaml"))
    assert "absent.yaml" in str(caught.value) and "cannot read" in str(caught.value)


class FakeProvider:
    name = "fake"

    def __init__(self) -> None:
        self.closed = False

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        if False:
            yield

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        return EmbeddingResult([], 0)

    async def aclose(self) -> None:
        self.closed = True


MODEL_A = ModelInfo(id="a", provider="fake", upstream_model="up-a")
MODEL_B = ModelInfo(id="b", provider="lazy", upstream_model="up-b")


async def test_programmatic_registry_and_lazy_providers() -> None:
    fake, created = FakeProvider(), []

    def make() -> FakeProvider:
        created.append(FakeProvider())
        return created[-1]

    registry = ModelRegistry(
        models=[MODEL_A, MODEL_B],
        providers={"fake": fake},
        provider_factories={"lazy": make},
        default_model_id="b",
    )
    assert registry.default_model_id == "b"
    assert registry.models() == [MODEL_A, MODEL_B]
    assert registry.provider_for(MODEL_A) is fake
    assert created == []
    assert registry.provider_for(MODEL_B) is registry.provider_for(MODEL_B)
    assert len(created) == 1  # one instance per provider entry
    await registry.aclose()
    assert fake.closed and created[0].closed


def test_get_or_raise_names_the_model() -> None:
    registry = ModelRegistry(models=[MODEL_A], providers={"fake": FakeProvider()})
    assert registry.get("a") is MODEL_A and registry.get("zz") is None
    with pytest.raises(UnknownModel) as caught:
        registry.get_or_raise("zz")
    assert str(caught.value) == "model 'zz' is not available"
    assert caught.value.model_id == "zz"


@pytest.mark.parametrize(
    ("models", "providers", "default", "words"),
    [
        ([], {}, None, "at least one"),
        ([MODEL_A, MODEL_A], {"fake": FakeProvider()}, None, "unique"),
        ([MODEL_B], {"fake": FakeProvider()}, None, "unknown provider"),
        ([MODEL_A], {"fake": FakeProvider()}, "zz", "default model"),
    ],
)
def test_programmatic_registry_is_checked(models, providers, default, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=words):
        ModelRegistry(models=models, providers=providers, default_model_id=default)


def test_count_tokens_uses_the_best_local_tokenizer() -> None:
    registry = ModelRegistry.from_settings(Settings(models_file=EXAMPLE))
    embedded = registry.get_or_raise("smollm2-135m-instruct")
    text = "Ünïcödé and tiktoken is great!"
    vocab_count = registry.provider_for(embedded).count_tokens(text)  # type: ignore[attr-defined]
    assert registry.count_tokens(embedded, text) == vocab_count
    assert registry.count_tokens(registry.get_or_raise("claude-sonnet"), text) == count_tokens(
        text, "cl100k_base"
    )
    fake = ModelRegistry(models=[MODEL_A], providers={"fake": FakeProvider()})
    assert fake.count_tokens(MODEL_A, "hello world") == 2


def test_api_keys_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-from-env")
    registry = registry_for(
        tmp_path,
        "providers: {v: {type: openai, base_url: 'http://127.0.0.1:9/v1', api_key_env: TEST_LLM_KEY, "
        "timeout_seconds: 5}}\nmodels: [{id: m, provider: v}]\n",
    )
    provider = registry.provider_for(registry.get_or_raise("m"))
    assert isinstance(provider, OpenAICompatProvider)
    assert provider._api_key == "sk-from-env"
    assert provider._timeouts.total == 5
