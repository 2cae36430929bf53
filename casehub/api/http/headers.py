"""Response headers: the security headers every response carries, the GraphiQL page's own
content security policy, and CORS for the origins the settings allow (none by default)."""

from __future__ import annotations

import base64
import hashlib
import re

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
# Headers a browser tool may send: the token, JSON, and the CSRF headers of uploads.
CORS_HEADERS = ("authorization", "content-type", "apollo-require-preflight", "x-casehub-csrf")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_SOURCES = re.compile(r"""(?:src|href)="(https://[^/"]+)/""")


class SecurityHeaders:
    """ASGI middleware: each header above goes on every HTTP response that did not set its own
    (the GraphiQL page sets its policy, the receipt keys their cache lifetime)."""

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


def ide_policy(html: str) -> str:
    """A content security policy under which this GraphiQL page works and nothing else runs:
    its inline scripts by hash, its CDN, and requests to this origin only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    cdns = " ".join(sorted(set(_SOURCES.findall(html))))
    return (
        f"default-src 'none'; script-src {hashes} {cdns}; "
        # GraphiQL styles its editors inline.
        f"style-src 'unsafe-inline' {cdns}; font-src {cdns} data:; img-src {cdns} data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


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
                expose_headers=["retry-after", "x-request-id"],
                max_age=600,
            )
        )
    return stack
