"""Anthropic's Messages API through the official `anthropic` SDK (the [anthropic] extra)."""

from __future__ import annotations

from chatkeep.providers.anthropic.provider import AnthropicProvider

__all__ = ["AnthropicProvider"]
