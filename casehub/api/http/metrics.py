"""Prometheus metrics of one app, in a registry of its own (apps built side by side in one
process never collide), served at /metrics in the text format.

No label names an agency, a principal, a case or anything a request carries, except its
operation name, and that only in a bounded form: the operationName a client sends when it is a
plain name of at most 64 characters and one of the first MAX_OPERATION_NAMES distinct names
this process saw; "anonymous" without one, "other" otherwise, "-" when the gate refused the
request before reading it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from casehub.services.audit.trail import AuditEntry
from casehub.services.federation.outbox import Depth

MAX_OPERATION_NAMES = 200
# The operation labels that are not names.
UNREAD = "-"  # refused before the body was read
ANONYMOUS = "anonymous"
OTHER = "other"
# Kinds of rate-limit refusal.
CALLS = "token"  # requests per API token (limiters.calls)
AUTH_ADDRESS = "auth-address"  # failed authentications per client address
# Reasons read from the header alone, which tell nothing of any token. Unknown, revoked and
# expired are one reason: /metrics has no token, and told apart they would say whether a
# token string was ever issued, or when it stopped working. The audit chain (auth.fail)
# keeps the precise reason for operators.
_HEADER_REASONS = frozenset({"missing", "malformed"})
UNUSABLE = "invalid_token"  # unknown, revoked or expired


def public_reason(reason: str) -> str:
    """The reason a failed authentication is counted under."""
    return reason if reason in _HEADER_REASONS else UNUSABLE


HIT_CHECK = "hit-check"  # identifiers hit-checked per agency

PoolUse = Callable[[], tuple[int, int] | None]


class Metrics:
    """The counters, gauges and histograms of one app."""

    def __init__(self, pool_use: PoolUse) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "casehub_requests",
            "GraphQL requests over HTTP by operation and outcome (ok, or the code of the first "
            "error: UNAUTHENTICATED, RATE_LIMITED, LIMIT_EXCEEDED, INTERNAL ...).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "casehub_request_duration_seconds",
            "Time to answer a GraphQL request over HTTP, by operation.",
            ["operation"],
            registry=registry,
        )
        self.subscriptions = Gauge(
            "casehub_subscriptions_open", "Subscriptions running now.", registry=registry
        )
        self.websockets = Gauge(
            "casehub_websockets_open", "Websocket connections open now.", registry=registry
        )
        self.decryptions = Counter(
            "casehub_field_decryptions",
            "Protected fields decrypted for readers (counted as their audit events are recorded).",
            registry=registry,
        )
        self.hit_checks = Counter(
            "casehub_hit_checks",
            "Hit checks by outcome: hit, no_hit, or the refusal's code.",
            ["outcome"],
            registry=registry,
        )
        self.federation_refusals = Counter(
            "casehub_federation_refusals",
            "Envelopes refused at /federation/v1/messages, by code (one of ten fixed codes).",
            ["code"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "casehub_rate_limited",
            "Refusals by a rate limit, by kind: token, auth-address, hit-check.",
            ["kind"],
            registry=registry,
        )
        self.auth_failures = Counter(
            "casehub_auth_failures",
            "Failed authentications by reason: missing, malformed, invalid_token.",
            ["reason"],
            registry=registry,
        )
        self.audit_events = Counter(
            "casehub_audit_events",
            "Audit events recorded, by action and outcome (OK or the refusal's code).",
            ["action", "outcome"],
            registry=registry,
        )
        registry.register(_Pool(pool_use))
        self.federation_outbox = _Outbox()
        registry.register(self.federation_outbox)
        # Labelled children, kept: labels() takes a lock and checks its arguments each call.
        # The timers grow by the operation names seen, up to the cap.
        self._timers = {label: self.duration.labels(label) for label in (UNREAD, ANONYMOUS, OTHER)}
        self._counters: dict[tuple[str, str], Counter] = {}

    def request(self, operation: str, outcome: str, seconds: float) -> None:
        """Count one answered HTTP request."""
        timer = self._timers.get(operation)
        if timer is None:
            if len(self._timers) >= MAX_OPERATION_NAMES + 3:
                operation, timer = OTHER, self._timers[OTHER]
            else:
                timer = self._timers[operation] = self.duration.labels(operation)
        timer.observe(seconds)
        key = (operation, outcome)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(operation, outcome)
        counter.inc()

    def audited(self, entry: AuditEntry) -> None:
        """Count a recorded audit event, and what it tells of decryptions, hit checks and
        failed authentications (casehub.services.audit.trail.OBSERVER)."""
        self.audit_events.labels(entry.action, entry.outcome).inc()
        if entry.action == "field.decrypt":
            self.decryptions.inc(sum(len(item["fields"]) for item in entry.details["objects"]))
        elif entry.action == "hit.check":
            outcome = entry.outcome
            if outcome == "OK":
                outcome = "hit" if entry.details.get("identifiersWithHits") else "no_hit"
            elif outcome == "RATE_LIMITED":
                self.rate_limited.labels(HIT_CHECK).inc()
            self.hit_checks.labels(outcome).inc()
        elif entry.action == "auth.fail":
            self.auth_failures.labels(public_reason(entry.details["reason"])).inc()

    async def serve(self, _request: Request) -> Response:
        """GET /metrics: everything above in Prometheus's text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _Pool(Collector):
    """The database pool's use, read at scrape time. SQLite has a pool too (aiosqlite
    connections, five by default), though its writers queue for one file lock anyway."""

    def __init__(self, pool_use: PoolUse) -> None:
        self.pool_use = pool_use

    def collect(self) -> Iterator[Metric]:
        """Connections checked out now and the pool's size (none for an unpooled engine)."""
        use = self.pool_use()
        if use is None:
            return
        checked_out, size = use
        yield GaugeMetricFamily(
            "casehub_db_pool_checked_out", "Database connections in use now.", checked_out
        )
        yield GaugeMetricFamily(
            "casehub_db_pool_size",
            "Connections the database pool keeps open (PostgreSQL: CASEHUB_DB_POOL_SIZE; as "
            "many again may overflow it).",
            size,
        )


class _Outbox(Collector):
    """The federation outbox as this replica's delivery worker last read it (after every
    round): a scrape is synchronous and must not read the database."""

    def __init__(self) -> None:
        self.depth: Depth | None = None

    def observe(self, depth: Depth) -> None:
        """Keep the newest reading (run_delivery's `observe`)."""
        self.depth = depth

    def collect(self) -> Iterator[Metric]:
        """Messages by state, and the age of the oldest PENDING one (0 when none)."""
        if self.depth is None:
            return
        by_state = GaugeMetricFamily(
            "casehub_federation_outbox_messages",
            "Messages in the federation outbox, by state (PENDING, DELIVERED, DEAD).",
            labels=["state"],
        )
        for state, count in sorted(self.depth.by_state.items()):
            by_state.add_metric([state], count)
        yield by_state
        oldest = self.depth.oldest_pending
        yield GaugeMetricFamily(
            "casehub_federation_outbox_oldest_pending_seconds",
            "Age of the oldest PENDING federation message (0 when none): alert when it grows.",
            0.0 if oldest is None else oldest.total_seconds(),
        )
