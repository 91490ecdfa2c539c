"""The built-in model catalogue: listed by the credentials present, overridden by the models file."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkeep.providers.anthropic import AnthropicProvider
from chatkeep.providers.base import Pricing
from chatkeep.providers.bedrock import BedrockProvider
from chatkeep.providers.catalogue import CATALOGUE, configured_providers
from chatkeep.providers.models_file import ModelsFileError
from chatkeep.providers.openai import OpenAICompatProvider
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings

EMBEDDED = "smollm2-135m-instruct"


def registry(tmp_path: Path | None = None, text: str | None = None) -> ModelRegistry:
    if text is None:
        return ModelRegistry.from_settings(Settings(models_file=None))
    assert tmp_path is not None
    path = tmp_path / "models.yaml"
    path.write_text(text)
    return ModelRegistry.from_settings(Settings(models_file=path))


def aws(monkeypatch: pytest.MonkeyPatch, region: str = "us-east-1") -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", region)


def test_without_credentials_nothing_is_added() -> None:
    assert [m.id for m in registry().models()] == [EMBEDDED]


def test_aws_credentials_list_nova_and_claude_on_bedrock(monkeypatch: pytest.MonkeyPatch) -> None:
    aws(monkeypatch)
    reg = registry()
    ids = [m.id for m in reg.models()]
    assert {"amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0", "amazon.nova-pro-v1:0"} <= set(ids)
    assert "anthropic.claude-3-5-sonnet-20241022-v2:0" in ids and "gpt-4o" not in ids
    assert ids[-1] == EMBEDDED and reg.default_model_id == EMBEDDED  # the default does not move
    nova = reg.get_or_raise("amazon.nova-lite-v1:0")
    assert nova.provider == "bedrock" and nova.upstream_model == "amazon.nova-lite-v1:0"
    assert {"text", "image", "video", "document", "tools", "structured_output"} <= nova.capabilities
    assert (nova.context_window, nova.pricing) == (300_000, Pricing(0.06, 0.24, "USD"))
    assert isinstance(reg.provider_for(nova), BedrockProvider)
    assert reg.get_or_raise("amazon.titan-embed-text-v2:0").supports("embeddings")


@pytest.mark.parametrize(
    ("region", "profile"), [("us-west-2", "us"), ("eu-central-1", "eu"), ("me-south-1", "global")]
)
def test_newer_claude_on_bedrock_goes_through_the_regions_inference_profile(
    monkeypatch: pytest.MonkeyPatch, region: str, profile: str
) -> None:
    aws(monkeypatch, region)
    sonnet = registry().get_or_raise("anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert sonnet.upstream_model == f"{profile}.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert sonnet.max_output_tokens == 64_000


def test_aws_credentials_without_a_region_are_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "prod")
    assert configured_providers() == set()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert configured_providers() == {"bedrock"}


def test_api_keys_list_anthropic_and_openai_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-oai")
    reg = registry()
    sonnet = reg.get_or_raise("claude-sonnet-4-5")
    assert sonnet.provider == "anthropic" and isinstance(reg.provider_for(sonnet), AnthropicProvider)
    gpt = reg.get_or_raise("gpt-4o-mini")
    assert gpt.provider == "openai" and gpt.supports("structured_output")
    assert gpt.pricing == Pricing(0.15, 0.60, "USD")
    assert isinstance(reg.provider_for(gpt), OpenAICompatProvider)
    assert not [m for m in reg.models() if m.provider == "bedrock"]


def test_a_models_file_entry_replaces_the_catalogue_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws(monkeypatch)
    reg = registry(
        tmp_path,
        "providers: {aws: {type: bedrock, region: eu-west-1}}\n"
        "models:\n"
        "  - {id: amazon.nova-lite-v1:0, provider: aws, context_window: 1000, pricing: {input_per_m: 9}}\n",
    )
    ids = [m.id for m in reg.models()]
    assert ids.count("amazon.nova-lite-v1:0") == 1 and ids[0] == "amazon.nova-lite-v1:0"
    nova = reg.get_or_raise("amazon.nova-lite-v1:0")
    assert (nova.provider, nova.context_window, nova.pricing.input_per_m) == ("aws", 1000, 9)
    assert reg.default_model_id == "amazon.nova-lite-v1:0"
    assert "amazon.nova-pro-v1:0" in ids  # the rest of the catalogue stays


def test_a_models_file_provider_named_like_a_family_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws(monkeypatch, "us-east-1")
    reg = registry(tmp_path, "providers: {bedrock: {type: bedrock, region: eu-west-1}}\n")
    sonnet = reg.get_or_raise("anthropic.claude-haiku-4-5-20251001-v1:0")
    assert sonnet.upstream_model.startswith("eu.")  # the file's region decides the profile


def test_a_default_model_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "default_model: amazon.nova-micro-v1:0\n"
    with pytest.raises(ModelsFileError, match="need their provider's credentials"):
        registry(tmp_path, text)  # no AWS credentials: the model is not listed
    aws(monkeypatch)
    assert registry(tmp_path, text).default_model_id == "amazon.nova-micro-v1:0"


def test_the_catalogue_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws(monkeypatch)
    assert [m.id for m in registry(tmp_path, "catalogue: false\n").models()] == [EMBEDDED]
    with pytest.raises(ModelsFileError, match="default_model"):
        registry(tmp_path, "catalogue: false\ndefault_model: amazon.nova-micro-v1:0\n")


def test_catalogue_entries_are_complete() -> None:
    ids = [m.id for m in CATALOGUE]
    assert len(ids) == len(set(ids))
    for model in CATALOGUE:
        info = model.info()
        assert info.context_window > 0 and info.max_output_tokens > 0 and info.name
        assert info.pricing.input_per_m > 0, model.id
        chat = not info.supports("embeddings")
        assert chat == info.supports("streaming") == info.supports("text"), model.id
