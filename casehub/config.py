"""Settings, read from CASEHUB_* environment variables when asked for, never at import time."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".casehub")


class Environment(StrEnum):
    """Deployment kind; development turns on GraphiQL, introspection and suggestions."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


class Settings(BaseSettings):
    """Every knob casehub has; the README's settings table lists them."""

    model_config = SettingsConfigDict(env_prefix="CASEHUB_", extra="ignore")

    env: Environment = Field(
        default=Environment.PRODUCTION,
        description="production (no GraphiQL, introspection or suggestions) or development.",
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_HOME}/casehub.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+psycopg://...",
    )
    keyring: Path = Field(
        default=DEFAULT_HOME / "keyring.json",
        description="Path of the local keyring file (mode 0600).",
    )
    host: str = Field(default="127.0.0.1", description="Address `casehub serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `casehub serve` binds.")
    max_evidence_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest evidence content accepted, in bytes."
    )
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest HTTP request body accepted, in bytes (uploads included).",
    )
    max_query_depth: int = Field(default=10, ge=1, description="Deepest query accepted.")
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connection pool size.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    @property
    def is_development(self) -> bool:
        """Whether developer conveniences (GraphiQL, introspection) are on."""
        return self.env is Environment.DEVELOPMENT
