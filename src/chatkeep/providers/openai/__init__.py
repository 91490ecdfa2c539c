"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp's server): chats and embeddings."""

from __future__ import annotations

from chatkeep.providers.openai.provider import OpenAICompatProvider

__all__ = ["OpenAICompatProvider"]
