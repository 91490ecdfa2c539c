"""Prometheus metrics: their definitions, and the text a scrape of `/metrics` answers.

Several worker processes (`chatkeep serve --workers N`) each count their own requests; prometheus-client's
multiprocess mode sums them. `chatkeep serve` gives the workers a fresh PROMETHEUS_MULTIPROC_DIR, which
must be set before prometheus-client is first imported, so a scrape of any worker reports all of them.
Labels carry only bounded values: route templates (never raw paths), model ids, organisation names,
guard categories and actions, error kinds.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Turns last seconds to minutes; token gaps are milliseconds.
_TURN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
_FIRST_TOKEN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
_GAP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)
_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30)

HTTP_REQUESTS = Counter(
    "chatkeep_http_requests",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "chatkeep_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response body (streams included).",
    ["method", "route"],
)
TURN_DURATION = Histogram(
    "chatkeep_turn_duration_seconds",
    "Whole turns, from the start event to the last, by model.",
    ["model"],
    buckets=_TURN_BUCKETS,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "chatkeep_turn_time_to_first_token_seconds",
    "From a turn's start to the model's first text or tool call, by model.",
    ["model"],
    buckets=_FIRST_TOKEN_BUCKETS,
)
INTER_TOKEN_GAP = Histogram(
    "chatkeep_turn_inter_token_seconds",
    "Gaps between consecutive pieces of streamed text, by model.",
    ["model"],
    buckets=_GAP_BUCKETS,
)
MODEL_TOKENS = Counter(
    "chatkeep_model_tokens",
    "Model tokens used by finished turns, by organisation, model and direction (input or output).",
    ["org", "model", "direction"],
)
TURNS = Counter("chatkeep_turns", "Turns ended, by model and outcome.", ["model", "outcome"])
GUARD_VERDICTS = Counter(
    "chatkeep_guard_verdicts",
    "Guard verdicts on scanned messages, by detected category (or 'none') and the policy's action.",
    ["category", "action"],
)
OPEN_STREAMS = Gauge(
    "chatkeep_open_streams",
    "Turns streaming right now.",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "chatkeep_db_pool_connections_in_use",
    "Database connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)
DB_POOL_WAITS = Counter(
    "chatkeep_db_pool_waits",
    "Connection requests that found every pooled connection busy and had to wait.",
)
DB_POOL_WAIT_SECONDS = Histogram(
    "chatkeep_db_pool_wait_seconds",
    "How long the requests counted by chatkeep_db_pool_waits waited.",
    buckets=_WAIT_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "chatkeep_upstream_errors",
    "Failed model calls, by model and kind (timeout, rate_limited, upstream, ...).",
    ["model", "kind"],
)
LIMIT_REFUSALS = Counter(
    "chatkeep_limit_refusals",
    "Requests refused by an organisation limit (requests_per_minute or monthly_token_quota).",
    ["limit"],
)
WORKER_START = Gauge(
    "chatkeep_worker_start_time_seconds",
    "When each serving process started (unix time); one series per worker, labelled by pid.",
    multiprocess_mode="liveall",
)


def is_multiprocess() -> bool:
    """Whether this process shares its metrics with sibling workers through PROMETHEUS_MULTIPROC_DIR."""
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, and its content type: every worker's, summed."""
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def note_worker_started() -> None:
    """Record this serving process's start time (one series per worker under --workers N)."""
    WORKER_START.set_to_current_time()


def forget_this_process() -> None:
    """Drop this worker's live gauges from the shared directory as it exits (its counters stay)."""
    if is_multiprocess():
        multiprocess.mark_process_dead(os.getpid())
