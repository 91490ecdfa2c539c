"""The caller's organisation's AI config, read with the token and kept for the rest of the request.

Authentication already loads the organisation row (its limits apply to every call); a turn needs the
same config, and reading it again cost a transaction per turn.
"""

from __future__ import annotations

from fastapi import Request

from chatkeep.core.org_config import AIConfig

_KEY = "chatkeep_ai_config"


def remember(request: Request, config: AIConfig) -> None:
    setattr(request.state, _KEY, config)


def caller_config(request: Request) -> AIConfig | None:
    """The config `remember`ed by this request's authentication, if it ran."""
    config = getattr(request.state, _KEY, None)
    return config if isinstance(config, AIConfig) else None
