"""Content negotiation of /graphql (GraphQL over HTTP): `application/graphql-response+json` for
a client whose Accept header prefers it, `application/json` otherwise, as before. The view
gives graphql-response+json the spec's status codes (casehub.api.http.view); this middleware
labels every GraphQL-shaped answer of /graphql, the gate's refusals included, with the
negotiated type and says that the answer varies with Accept."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_JSON = JSON.encode()


def negotiate(accept: str | None) -> str:
    """The media type of the answer to this Accept header: graphql-response+json where it is
    listed with a quality at least that of JSON (ties go to it: a client that names it knows
    it); JSON for no header, `*/*`, JSON itself, or anything else (answered as before, rather
    than 406, so that no existing client breaks)."""
    graphql_response = json = wildcard = -1.0
    for media_range in (accept or "").split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        quality = _quality(parameters)
        kind = kind.lower()
        if kind == GRAPHQL_RESPONSE_JSON:
            graphql_response = max(graphql_response, quality)
        elif kind == JSON:
            json = max(json, quality)
        elif kind in ("*/*", "application/*"):
            wildcard = max(wildcard, quality)
    json = json if json >= 0 else wildcard  # the most specific range names its quality
    if graphql_response > 0 and graphql_response >= json:
        return GRAPHQL_RESPONSE_JSON
    return JSON


def of_request(scope: Scope) -> str:
    """The media type negotiated for this request (all its Accept headers taken together)."""
    accept = b",".join(value for name, value in scope["headers"] if name == b"accept")
    return negotiate(accept.decode("latin-1"))


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0  # unreadable: as good as not listed
    return 1.0


class Negotiation:
    """ASGI middleware (HTTP only): the negotiated media type replaces application/json on the
    answer, and `Vary: Accept` tells caches that it depends on the request's Accept (as the
    GraphiQL page, in development, does too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media_type = of_request(scope).encode()

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, media_type if _is_json(name, value) else value)
                    for name, value in message.get("headers", [])
                ]
                message = {**message, "headers": [*headers, (b"vary", b"Accept")]}
            await send(message)

        await self.app(scope, receive, labelled)


def _is_json(name: bytes, value: bytes) -> bool:
    return name.lower() == b"content-type" and value.split(b";")[0].strip().lower() == _JSON
