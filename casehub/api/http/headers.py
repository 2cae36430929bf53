"""Response headers: the security headers every response carries (the GraphiQL page sets its
own policy, casehub.api.http.ide.POLICY) and CORS for the origins the settings allow (none by
default)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehub.config import Settings

# An API answers JSON: nothing to render, frame, script or refer to.
STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", STRICT_POLICY.encode()),
    # Answers hold case data: no shared or browser cache keeps a copy.
    (b"cache-control", b"no-store"),
)
# Headers a browser tool may send: the token (and its DPoP proof), JSON, and the CSRF headers of
# uploads.
CORS_HEADERS = (
    "authorization",
    "dpop",
    "content-type",
    "apollo-require-preflight",
    "x-casehub-csrf",
)


class SecurityHeaders:
    """ASGI middleware: each header above goes on every HTTP response that did not set its own
    (the GraphiQL page sets its policy, its files and the receipt keys their cache lifetime)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers += [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def middleware(settings: Settings) -> list[Middleware]:
    """Security headers on everything; CORS only when the settings list origins."""
    stack = [Middleware(SecurityHeaders)]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"] if settings.allow_get_queries else ["POST"],
                allow_headers=CORS_HEADERS,
                # www-authenticate: the DPoP error of a refused proof (RFC 9449).
                expose_headers=["retry-after", "x-request-id", "www-authenticate"],
                max_age=600,
            )
        )
    return stack
