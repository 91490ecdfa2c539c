"""Amazon Bedrock's Converse API through boto3 (the [bedrock] extra)."""

from __future__ import annotations

from chatkeep.providers.bedrock.provider import BedrockProvider

__all__ = ["BedrockProvider"]
