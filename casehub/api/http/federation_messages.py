"""POST /federation/v1/messages: where peer hubs deliver envelopes (docs/FEDERATION.md).

Outside GraphQL and its gate: a peer hub authenticates each envelope by its signature, not by
a token. The body is read up to ENVELOPE_MAX_BYTES and no further, so an oversized or endless
body costs this hub at most that much memory; refusals are JSON {"error": {"code",
"message"}} with the code's status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casehub.domain.buckets import Rate
from casehub.domain.federation.envelopes import (
    DEFAULT_WINDOW,
    ENVELOPE_MAX_BYTES,
    EnvelopeRefused,
    RefusalCode,
)
from casehub.services.federation.messages import (
    NotFederated,
    RefusalLog,
    receive_envelope,
    refuse_unread,
)
from casehub.services.ratelimit import RateLimiter
from casehub.services.runtime import Runtime

ROUTE = "/federation/v1/messages"
NOT_FEDERATED = "NOT_FEDERATED"


class _Unread(Exception):
    """The body was not read whole: too large, or shorter than its declared length."""

    def __init__(self, refused: EnvelopeRefused) -> None:
        super().__init__(refused.message)
        self.refused = refused


def _too_large() -> EnvelopeRefused:
    return EnvelopeRefused(
        RefusalCode.TOO_LARGE, f"An envelope is at most {ENVELOPE_MAX_BYTES} bytes."
    )


async def read_bounded(request: Request, limit: int = ENVELOPE_MAX_BYTES) -> bytes:
    """The request body, refused (TOO_LARGE) as soon as it passes `limit`, whatever length it
    declared, and refused (MALFORMED) when it ends before its declared length."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _Unread(_too_large())
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Unread(_too_large())
            chunks.append(chunk)
    except ClientDisconnect:
        raise _Unread(EnvelopeRefused(RefusalCode.MALFORMED, "The body was cut off.")) from None
    if declared is not None and size != int(declared):
        raise _Unread(
            EnvelopeRefused(
                RefusalCode.MALFORMED, f"The body is {size} bytes, not the {declared} declared."
            )
        )
    return b"".join(chunks)


def _refusal(refused: EnvelopeRefused) -> Response:
    body = {"error": {"code": refused.code.value, "message": refused.message}}
    return JSONResponse(body, status_code=refused.status)


def routes(
    runtime: Runtime,
    *,
    window: timedelta = DEFAULT_WINDOW,
    refusal_audits_per_minute: int = 60,
    count_refusal: Callable[[str], None] | None = None,
) -> list[Route]:
    """The receiving endpoint: envelopes within `window` of this hub's clock; refusals nobody
    is accountable for audited up to `refusal_audits_per_minute` (casehub.services.federation
    .messages says why); `count_refusal` told each refusal's code (the metrics)."""
    refusals = RefusalLog(
        RateLimiter(Rate(refusal_audits_per_minute / 60, refusal_audits_per_minute))
    )

    async def messages(request: Request) -> Response:
        client = request.client.host if request.client else None
        try:
            try:
                body = await read_bounded(request)
            except _Unread as unread:
                await refuse_unread(runtime, unread.refused, refusals, client)
                raise unread.refused from None
            ack = await receive_envelope(
                runtime, body=body, window=window, refusals=refusals, client=client
            )
        except EnvelopeRefused as refused:
            if count_refusal is not None:
                count_refusal(refused.code.value)
            return _refusal(refused)
        except NotFederated as missing:
            error = {"code": NOT_FEDERATED, "message": f"{missing} No envelope is accepted."}
            return JSONResponse({"error": error}, status_code=404)
        return Response(ack, media_type="application/json")

    return [Route(ROUTE, messages, methods=["POST"])]
