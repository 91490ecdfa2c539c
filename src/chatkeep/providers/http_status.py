"""Upstream HTTP failures as ProviderError kinds, and the Retry-After hint of a 429."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from chatkeep.providers.base import ErrorKind


def kind_for_status(status: int) -> ErrorKind:
    """401/403 → auth, 404 → not_found, 408 → timeout, 429 → rate_limited, other 4xx → bad_request,
    5xx → upstream."""
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 408:
        return "timeout"
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "bad_request"
    return "upstream"


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(float(lowered["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
