"""Settings, read from CASEHUB_* environment variables when asked for, never at import time."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from casehub.domain.signatures.policy import SignedSteps

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


class DocumentsMode(StrEnum):
    """Which GraphQL documents /graphql executes."""

    ANY = "any"
    REGISTERED = "registered"


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
    max_json_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest JSON request body (or websocket message) accepted, in bytes; "
        "larger evidence content goes as a multipart upload.",
    )
    max_list_items: int = Field(
        default=100,
        ge=1,
        description="Most items of any list in a request's variables or document, checked "
        "before they are read.",
    )
    operation_time_budget_seconds: float = Field(
        default=10,
        gt=0,
        description="Longest an operation may run before it is cut (OPERATION_TIMEOUT) and "
        "rolled back.",
    )
    max_response_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest JSON answer sent, in bytes (RESPONSE_TOO_LARGE instead).",
    )
    max_concurrent_operations_per_token: int = Field(
        default=4,
        ge=1,
        description="Operations one API token may have running at once, per replica.",
    )
    max_websockets_per_token: int = Field(
        default=4,
        ge=1,
        description="Websocket connections one API token may hold open at once, per replica "
        "(each carries up to 10 subscriptions).",
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
        default=60_000,
        ge=1,
        description="Highest computed cost of an operation: the objects it may return, every "
        "page and list counted full (docs/SECURITY.md, Resource bounds).",
    )
    evidence_content_budget_bytes: int = Field(
        default=56 * 1024 * 1024,
        ge=0,
        description="Evidence content one operation may return, in bytes of base64: each "
        "contentBase64 counts as the largest evidence (max_evidence_bytes x 4/3), lists counted "
        "full; the default allows 4 contents of 10 MiB (53.3 MiB).",
    )
    max_subjects_per_case: int = Field(
        default=100, ge=1, description="Most subjects a case may hold (addSubject refuses more)."
    )
    max_evidence_per_case: int = Field(
        default=100, ge=1, description="Most evidence items a case may hold."
    )
    max_custody_events_per_evidence: int = Field(
        default=50,
        ge=1,
        description="Most chain-of-custody entries an evidence item may hold (its RECEIVED "
        "entry included).",
    )
    max_shares_per_case: int = Field(
        default=50,
        ge=1,
        description="Most shares a case may have been granted, revoked and replaced ones "
        "included (they stay listed).",
    )
    max_messages_per_request: int = Field(
        default=100,
        ge=1,
        description="Most thread messages the parties may post to one cooperation request.",
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
        default=False,
        description=(
            "Serve queries over GET /graphql too (URL parameters query, variables, "
            "operationName, extensions), behind the same authentication, rate limits and cost "
            "limits; a mutation over GET is refused (405). Bearer tokens only, never cookies: "
            "a page elsewhere cannot make a browser send one, so GET is no CSRF vector."
        ),
    )
    documents: DocumentsMode = Field(
        default=DocumentsMode.ANY,
        description="any: documents sent as text run, and Apollo's automatic persisted "
        "queries register on retry; registered: only documents in the registry run (by "
        "documentId, persistedQuery, or as text whose hash is registered), anything else is "
        "refused with DOCUMENT_NOT_REGISTERED (`casehub documents add`; docs/OPERATIONS.md).",
    )
    documents_dir: Path | None = Field(
        default=None,
        description="A directory of document manifests (.json) and .graphql files an agency "
        "tool ships: registered at startup, all or none, as `casehub documents add DIR` does "
        "(a document that does not validate stops the server from starting).",
    )
    max_registered_documents: int = Field(
        default=10_000,
        ge=1,
        description="Most documents the registry holds (all sources); past it automatic "
        "persisted queries still run but are not stored, and `casehub documents add` refuses.",
    )
    apq_registrations_per_minute: int = Field(
        default=30,
        ge=1,
        description="Automatic persisted queries one API token may register per minute, per "
        "replica; past it they still run but are not stored.",
    )
    max_manifest_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest document manifest or .graphql file `casehub documents add` reads, "
        "in bytes.",
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
    token_default_lifetime_days: int = Field(
        default=90,
        ge=1,
        description="Lifetime of a token issued without --expires, in days.",
    )
    token_max_lifetime_days: int = Field(
        default=365,
        ge=1,
        description="Longest lifetime a token may be issued with, in days.",
    )
    signed_steps: SignedSteps = Field(
        default=SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER,
        description="Which request steps (submit, approve, accept, decline, fulfil) must carry "
        "the acting agency's signature: emergency-or-service-provider (an EMERGENCY request, "
        "or one to a SERVICE_PROVIDER), all, or none. A signature is verified whenever given; "
        "an approval always needs one.",
    )
    statement_skew_seconds: int = Field(
        default=300,
        ge=10,
        le=3600,
        description="How far a signed statement's issuedAt may be from the server's clock, in "
        "seconds.",
    )
    dpop_proof_skew_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="How far a DPoP proof's issued-at (iat) may be from the server's clock, in "
        "seconds; each used proof is remembered in the database (for every replica) until then.",
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For gives the client address (IPs or networks, "
        "comma-separated, or *); none: the peer address counts.",
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
    db_pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Longest a request waits for a free pooled PostgreSQL connection before "
        "it is answered SERVICE_UNAVAILABLE with a Retry-After (keep it below the operation "
        "time budget).",
    )
    federation_allow_http: bool = Field(
        default=False,
        description="Allow pinning peer hubs at plain http:// URLs that are not loopback "
        "(loopback http is always allowed, for tests and the two-hub demo).",
    )
    federation_fetch_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Longest `federation peers add` waits for a peer's identity document, in all.",
    )
    federation_window_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How far an unseen envelope's sentAt may be from this hub's clock, either "
        "way, for it to be accepted (federation).",
    )
    federation_refusal_audits_per_minute: int = Field(
        default=60,
        ge=1,
        le=6000,
        description="Refused federation envelopes that no pinned peer signed, audited per "
        "minute at most (one allowance per process; the next audited one counts those left "
        "out). Refusals of envelopes a pinned peer signed are always audited.",
    )
    federation_deliver_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often the federation outbox is delivered (one replica at a time "
        "sends; at once again after a full round); 0: not in this process "
        "(`casehub federation deliver --once`).",
    )
    federation_retry_base_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Longest wait before the first retry of a federation message; it doubles "
        "with each failed attempt up to CASEHUB_FEDERATION_RETRY_CAP_SECONDS (full jitter: "
        "the wait is random, up to that).",
    )
    federation_retry_cap_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Longest wait between two attempts to deliver a federation message.",
    )
    federation_delivery_max_attempts: int = Field(
        default=500,
        ge=1,
        description="Attempts after which a federation message that was never acknowledged "
        "is a dead letter (`casehub federation outbox --state dead`).",
    )
    federation_delivery_max_age_seconds: int = Field(
        default=259200,
        ge=60,
        description="Age after which a federation message that was never acknowledged is a "
        "dead letter at its next failed attempt (default 3 days).",
    )
    federation_delivery_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Longest one delivery attempt waits for a peer's answer, in all.",
    )
    audit_integrate_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often the audit sequencer integrates new entries and signs a tree head "
        "(one replica at a time does it); 0: not in this process (`casehub audit integrate`).",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    hit_check_per_minute: int = Field(
        default=100,
        ge=1,
        description="Identifiers one agency may hit-check in any 60 seconds (all replicas).",
    )

    @field_validator("cors_origins", "forwarded_allow_ips", mode="before")
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

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            if proxy == "*":
                continue
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an address or network: give e.g. 10.0.0.5 or 10.0.0.0/8."
                ) from None
        return value

    @model_validator(mode="after")
    def _check_token_lifetimes(self) -> Settings:
        if self.token_default_lifetime_days > self.token_max_lifetime_days:
            raise ValueError("token_default_lifetime_days must not exceed token_max_lifetime_days.")
        return self

    @model_validator(mode="after")
    def _check_federation_retries(self) -> Settings:
        if self.federation_retry_base_seconds > self.federation_retry_cap_seconds:
            raise ValueError(
                "federation_retry_base_seconds must not exceed federation_retry_cap_seconds."
            )
        return self

    @property
    def max_evidence_contents(self) -> int:
        """How many evidence contents one operation may return (evidence_content_budget_bytes
        over the base64 size of the largest evidence)."""
        return self.evidence_content_budget_bytes // (4 * -(-self.max_evidence_bytes // 3))

    @property
    def is_development(self) -> bool:
        """Whether developer conveniences (GraphiQL, introspection) are on."""
        return self.env is Environment.DEVELOPMENT

    @property
    def logs_as(self) -> LogFormat:
        """The log format asked for, else the environment's (JSON in production)."""
        return self.log_format or (LogFormat.TEXT if self.is_development else LogFormat.JSON)
