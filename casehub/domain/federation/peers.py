"""Pinning a peer hub: where its identity is fetched from, and every refusal (pure).

Each refusal is its own error class so the CLI, the tests and a later API name the failure
exactly; none of them writes anything (the service checks everything before its one write).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from casehub.domain.errors import Conflict, NotFound, ValidationFailed

IDENTITY_PATH = "/federation/v1/identity"
URL_MAX = 2048
# Plain http carries no secret here (the document is public and its fingerprint is checked),
# but a peer's later messages go to the same URL: only loopback (tests, the two-hub demo) may
# skip TLS unless the operator allows it.
_LOOPBACK_NAMES = frozenset({"localhost"})


class InvalidPeerUrl(ValidationFailed):
    """The URL is not one a peer can be reached at under this hub's rules."""


class InvalidFingerprint(ValidationFailed):
    """What the operator typed is not a fingerprint ("sha256:" and 64 hex digits)."""


class PeerUnreachable(ValidationFailed):
    """The peer did not answer its identity in time with 200 (refused, timed out, redirected,
    another status)."""


class PeerResponseTooLarge(ValidationFailed):
    """The peer's answer is larger than a hub document can be."""


class PeerDocumentMalformed(ValidationFailed):
    """The peer's answer is not a signed hub document."""


class PeerSignatureInvalid(ValidationFailed):
    """The peer's hub document is not signed by its own signing key."""


class FingerprintMismatch(ValidationFailed):
    """The document the peer served is not the one whose fingerprint the operator was given."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"The peer's fingerprint is {actual}, not the {expected} you were given: "
            "nothing was pinned. Check the fingerprint with the peer's operator out of band.",
            ["fingerprint"],
        )
        self.expected = expected
        self.actual = actual


class SelfPeering(Conflict):
    """The URL serves this hub's own identity."""


class UnknownPeer(NotFound):
    """No pinned peer has this hub id."""


def peer_base_url(url: object, *, allow_http: bool) -> str:
    """The peer's base URL (no trailing slash), checked: https, or http to a loopback host
    unless allow_http; a host, no credentials, query or fragment; at most URL_MAX characters.
    InvalidPeerUrl saying why not."""
    field = ["url"]
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise InvalidPeerUrl(f"A peer URL is 1 to {URL_MAX} characters.", field)
    try:
        parts = urlsplit(url)
        no_port = parts.port == 0  # reading it raises ValueError for a port out of range
    except ValueError:
        no_port = True
    if no_port:
        raise InvalidPeerUrl(f"{url!r} is not a URL with a valid port.", field)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidPeerUrl(f"{url!r} is not an http(s) URL with a host.", field)
    if parts.username is not None or parts.password is not None:
        raise InvalidPeerUrl("A peer URL holds no user name or password.", field)
    if parts.query or parts.fragment or any(char.isspace() for char in url):
        raise InvalidPeerUrl("A peer URL has no query, fragment or spaces.", field)
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise InvalidPeerUrl(
            f"{url!r} is plain http: use https (plain http is only for loopback hosts unless "
            "CASEHUB_FEDERATION_ALLOW_HTTP is true).",
            field,
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether a URL's host names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
