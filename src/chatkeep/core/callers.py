"""A caller: the authenticated principal with its organisation's AI config, read together with the token.

The config decides the caller's limits on every request and every turn's defaults, so it is read once,
by the same query that resolves the token, and handed to the use cases with the principal.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Principal


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    config: AIConfig
