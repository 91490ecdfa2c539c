"""The real Redis for the live-server limit tests."""

from __future__ import annotations

from tests.redis_fixtures import redis, redis_prefix, redis_url  # noqa: F401 (fixtures)
