"""The HTTP gate in front of /graphql: method, content type, body size, failed-authentication
and per-token rate limits, and bearer or DPoP authentication, each refused with a JSON error
before any GraphQL work (casehub.api.http.access_log, in front of it, gives each request its
id)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehub.api.execution.extensions import retry_after
from casehub.api.http import metrics
from casehub.api.http.access_log import EXCHANGE, Exchange
from casehub.api.http.metrics import Metrics
from casehub.domain.dpop import ALGORITHMS, DpopError, DpopRefused, target_uri
from casehub.domain.errors import RateLimited, Unauthenticated
from casehub.services import ratelimit
from casehub.services.agencies.auth import Possession
from casehub.services.ratelimit import Limiters
from casehub.services.runtime import Runtime, open_scope

SCOPE_KEY = "casehub.scope"
# Headers a browser sends cross-site only after a CORS preflight: a multipart request must
# carry one, so that a page elsewhere cannot post a form to the API (CSRF).
PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-casehub-csrf")


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """A GraphQL-shaped error response body."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}


class BodyTooLarge(Exception):
    """The request body passed the configured limit."""


class Refusal(Exception):
    """A request turned away at the gate: its status, body and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = error_body(message, code, **extra)
        self.headers = headers or []


def rate_limited(message: str, delay: float) -> Refusal:
    """429 RATE_LIMITED, saying in whole seconds when to retry (header and extensions)."""
    seconds = retry_after(delay)
    return Refusal(
        429,
        f"{message} Retry in {seconds} s.",
        "RATE_LIMITED",
        [(b"retry-after", str(seconds).encode())],
        retryAfter=seconds,
    )


def unauthenticated(error: Unauthenticated) -> Refusal:
    """401 UNAUTHENTICATED with its challenge: Bearer, or for a DPoP-bound token the RFC 9449
    error (the proof's fault said, never the token's, which any failure of it shares)."""
    if not isinstance(error, DpopRefused):
        return Refusal(
            401, "Authentication required.", "UNAUTHENTICATED", [(b"www-authenticate", b"Bearer")]
        )
    message, challenge = "Authentication required.", f'DPoP error="{error.error}"'
    if error.error is DpopError.INVALID_PROOF:
        message = f"Invalid DPoP proof: {error.reason}."
        challenge += f', error_description="{error.reason}"'
    challenge += f', algs="{" ".join(ALGORITHMS)}"'
    return Refusal(
        401,
        message,
        "UNAUTHENTICATED",
        [(b"www-authenticate", challenge.encode())],
        dpop=error.error.value,
    )


def possession(scope: Scope, proof: str | None = None) -> Possession:
    """The DPoP proofs a request carries (its DPoP headers, or `proof` given in a websocket's
    connection_init) and the method and URL they must name; a websocket's are GET and its
    http(s) URL."""
    proofs = (proof,) if proof is not None else _headers(scope, b"dpop")
    host = _header(scope, b"host")
    if host is None:
        server_host, port = scope.get("server") or ("localhost", None)
        host = server_host if port is None else f"{server_host}:{port}"
    return Possession(
        proofs=proofs,
        method=scope.get("method", "GET"),
        uri=target_uri(scope.get("scheme", "http"), host, scope["path"]),
    )


def too_large(limit: int, json: bool) -> Refusal:
    """413 TOO_LARGE, naming the limit (and, for JSON, the way to send more)."""
    more = " Send evidence content as a multipart upload." if json else ""
    kind = "JSON request body" if json else "Request body"
    return Refusal(413, f"{kind} too large: at most {limit} bytes.{more}", "TOO_LARGE", max=limit)


class Gate:
    """ASGI middleware: refusals first, then a session per request and its principal."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Runtime,
        limiters: Limiters,
        metrics: Metrics,
        ide: tuple[str, str] | None,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.limiters = limiters
        self.metrics = metrics
        self.limit = runtime.settings.max_request_bytes
        # A JSON body is parsed whole and its lists walked before anything refuses it: it gets
        # a limit of its own, far below the upload limit (multipart bodies are streamed).
        self.json_limit = min(runtime.settings.max_json_bytes, self.limit)
        self.get_queries = runtime.settings.allow_get_queries
        self.ide = ide  # (page, its content security policy), in development only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange: Exchange = scope[EXCHANGE]
        if self.ide is not None and _wants_ide(scope):
            # The IDE page holds no data; everything it then asks for is authenticated.
            page, policy = self.ide
            await HTMLResponse(page, headers={"content-security-policy": policy})(
                scope, receive, send
            )
            return
        try:
            limit = self._check_request(scope)
            await self._serve(scope, receive, send, exchange, limit)
        except Refusal as refusal:
            exchange.outcome = refusal.code
            await _send_json(send, refusal.status, refusal.body, refusal.headers)

    def _check_request(self, scope: Scope) -> int:
        """Refuse what the method, headers and declared length already rule out; the body
        limit that applies."""
        method = scope["method"]
        if method == "GET" and self.get_queries:
            return self.json_limit
        if method != "POST":
            allowed = b"GET, POST" if self.get_queries else b"POST"
            raise Refusal(
                405,
                "Send GraphQL operations with POST."
                if not self.get_queries
                else "Send queries with GET or POST, mutations with POST.",
                "METHOD_NOT_ALLOWED",
                [(b"allow", allowed)],
            )
        media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        limit = self.json_limit
        if media_type == "multipart/form-data":
            limit = self.limit
            if not any(_header(scope, name) for name in PREFLIGHT_HEADERS):
                raise Refusal(
                    400,
                    "A multipart request (a file upload) needs the header "
                    "`Apollo-Require-Preflight: true` (or `X-Casehub-Csrf` with any value): "
                    "add it to your client's upload requests. No other site can make a "
                    "browser send it.",
                    "PREFLIGHT_REQUIRED",
                )
        elif media_type != "application/json":
            raise Refusal(
                415,
                "Send application/json (multipart/form-data for uploads).",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise too_large(limit, limit == self.json_limit)
        return limit

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange, limit: int
    ) -> None:
        client = scope.get("client")
        async with open_scope(self.runtime) as request_scope:
            request_scope.request_id = exchange.request_id
            try:
                principal = await ratelimit.authenticate(
                    self.runtime,
                    self.limiters,
                    request_scope,
                    _header(scope, b"authorization"),
                    client[0] if client else None,
                    possession(scope),
                )
            except RateLimited as refused:
                self.metrics.rate_limited.labels(metrics.AUTH_ADDRESS).inc()
                raise rate_limited(refused.message, refused.retry_after) from None
            except Unauthenticated as error:
                raise unauthenticated(error) from None
            exchange.agency, exchange.principal = principal.agency_code, str(principal.id)
            if delay := self.limiters.calls.take(str(principal.token_id)):
                self.metrics.rate_limited.labels(metrics.CALLS).inc()
                raise rate_limited("Too many requests with this token.", delay)
            request_scope.principal = principal
            scope[SCOPE_KEY] = request_scope
            # Operations running per token (HTTP and websocket alike): with the time budget,
            # what bounds the CPU one token can hold (concurrent operations times budget).
            try:
                held = self.limiters.running.take(principal.token_id)
            except RateLimited as refused:
                self.metrics.rate_limited.labels(metrics.CALLS).inc()
                raise rate_limited(refused.message, refused.retry_after) from None
            try:
                with held:
                    await self.app(scope, _limited(receive, limit), send)
            except BodyTooLarge:
                if not exchange.status:  # nothing sent yet: it can still be a 413
                    raise too_large(limit, limit == self.json_limit) from None


def _wants_ide(scope: Scope) -> bool:
    # A page request; with `query` in the address it is an operation (GET queries).
    asked = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    accept = _header(scope, b"accept") or ""
    return scope["method"] == "GET" and "query" not in asked and "text/html" in accept


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _headers(scope: Scope, name: bytes) -> tuple[str, ...]:
    return tuple(value.decode("latin-1") for key, value in scope.get("headers", []) if key == name)


def _limited(receive: Receive, limit: int) -> Callable[[], Awaitable[Message]]:
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return limited


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra_headers: list[tuple[bytes, bytes]]
) -> None:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + extra_headers}
    )
    await send({"type": "http.response.body", "body": payload})
