"""Settings, read from CASEHUB_* environment variables when asked for, never at import time."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_HOME = Path(".casehub")
_ORIGIN = re.compile(r"https?://[^/\s*]+")


class Environment(StrEnum):
    """Deployment kind; development turns on GraphiQL, introspection and suggestions."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


class LogFormat(StrEnum):
    """How log lines are written: one JSON object each, or plain text for people."""

    JSON = "json"
    TEXT = "text"


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
    max_query_aliases: int = Field(
        default=15, ge=0, description="Most aliases one GraphQL document may hold."
    )
    max_query_tokens: int = Field(
        default=2000, ge=10, description="Most lexical tokens one GraphQL document may hold."
    )
    max_query_directives: int = Field(
        default=50, ge=0, description="Most directives one GraphQL document may hold."
    )
    max_duplicate_fields: int = Field(
        default=10,
        ge=1,
        description="Most times one selection set may ask for the same response key.",
    )
    max_query_cost: int = Field(
        default=1000,
        ge=1,
        description="Highest computed cost of an operation (objects it may return, pages counted "
        "as full).",
    )
    max_page_size: int = Field(
        default=100,
        ge=1,
        le=100,
        description="Largest `first` or `last` of a connection (the services never serve more).",
    )
    max_document_chars: int = Field(
        default=100_000, ge=1000, description="Longest GraphQL document, in characters."
    )
    allow_get_queries: bool = Field(
        default=False, description="Serve queries (never mutations) over GET /graphql too."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API, comma-separated; none: no CORS.",
    )
    rate_limit_per_second: float = Field(
        default=20, gt=0, description="Requests per second one API token may make, sustained."
    )
    rate_limit_burst: int = Field(
        default=40, ge=1, description="Requests one API token may make at once after a pause."
    )
    auth_failures_per_minute: float = Field(
        default=10, gt=0, description="Failed authentications per minute from one address."
    )
    auth_failure_burst: int = Field(
        default=20, ge=1, description="Failed authentications one address may make at once."
    )
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics at /metrics (no token: keep it off public routes).",
    )
    log_format: LogFormat | None = Field(
        default=None, description="json or text; unset: json in production, text in development."
    )
    otel_enabled: bool = Field(
        default=False,
        description="Export OpenTelemetry spans to OTEL_EXPORTER_OTLP_ENDPOINT (the otel extra).",
    )
    shutdown_grace_seconds: int = Field(
        default=10,
        ge=0,
        description="After SIGTERM, how long in-flight requests may take before they are cut.",
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connection pool size.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    hit_check_per_minute: int = Field(
        default=100,
        ge=1,
        description="Identifiers one agency may hit-check in any 60 seconds (all replicas).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port], no path, no '*'."
                )
        return value

    @property
    def is_development(self) -> bool:
        """Whether developer conveniences (GraphiQL, introspection) are on."""
        return self.env is Environment.DEVELOPMENT

    @property
    def logs_as(self) -> LogFormat:
        """The log format asked for, else the environment's (JSON in production)."""
        return self.log_format or (LogFormat.TEXT if self.is_development else LogFormat.JSON)
