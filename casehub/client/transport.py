"""How the client presents its token: as a bearer token, or DPoP-bound (RFC 9449) with a fresh
proof by the tool's key on every HTTP request and, for the websocket, once in connection_init
(a proof for GET and the socket's http(s) URL, as casehub.api.http.websocket checks it)."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from casehub.crypto import dpop


@dataclass(frozen=True)
class Credentials:
    """An access token, and the private JWK it is bound to when it is DPoP-bound."""

    token: str
    dpop_key: Mapping[str, Any] | None = None

    @property
    def authorization(self) -> str:
        """The `Authorization` value: `DPoP <token>` for a bound token, else `Bearer <token>`."""
        return f"{'DPoP' if self.dpop_key is not None else 'Bearer'} {self.token}"

    def proof(self, method: str, url: str) -> str | None:
        """A fresh DPoP proof for this method and URL (None for a bearer token)."""
        if self.dpop_key is None:
            return None
        return dpop.make_proof(self.dpop_key, method=method, url=proof_url(url), token=self.token)

    def connection_init(self, websocket_url: str) -> dict[str, str]:
        """The graphql-transport-ws connection_init payload that authenticates a socket."""
        payload = {"authorization": self.authorization}
        proof = self.proof("GET", websocket_url)
        if proof is not None:
            payload["dpop"] = proof
        return payload


class TokenAuth(httpx.Auth):
    """httpx authentication: the token on every request, with a new proof each time."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add `Authorization` and, for a DPoP-bound token, `DPoP` to the request."""
        request.headers["Authorization"] = self.credentials.authorization
        proof = self.credentials.proof(request.method, str(request.url))
        if proof is not None:
            request.headers["DPoP"] = proof
        yield request


def proof_url(url: str) -> str:
    """What a proof's `htu` names: the http(s) URL without query or fragment (a websocket's
    ws and wss are http and https)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def websocket_url(url: str) -> str:
    """The graphql-transport-ws URL of a GraphQL endpoint's http(s) URL: the same path."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"The endpoint must be an http or https URL, not {url!r}.")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
