"""Where a peer may be pinned from (casehub.domain.federation.peers.peer_base_url)."""

from __future__ import annotations

import pytest

from casehub.domain.federation.peers import InvalidPeerUrl, is_loopback, peer_base_url

ACCEPTED = [
    ("https://fr-hub.example", "https://fr-hub.example"),
    ("https://fr-hub.example/", "https://fr-hub.example"),
    ("https://fr-hub.example:8443/casehub/", "https://fr-hub.example:8443/casehub"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://127.8.9.10", "http://127.8.9.10"),
    ("http://localhost:8000/", "http://localhost:8000"),
    ("http://LOCALHOST", "http://LOCALHOST"),
    ("http://[::1]:8000", "http://[::1]:8000"),
]
REFUSED = [
    "http://fr-hub.example",  # plain http off loopback
    "http://10.0.0.1",
    "http://localhost.evil.example",
    "ftp://fr-hub.example",
    "file:///etc/passwd",
    "https://",
    "fr-hub.example",
    "https://user@fr-hub.example",
    "https://user:secret@fr-hub.example",
    "https://fr-hub.example/?a=1",
    "https://fr-hub.example/#top",
    "https://fr-hub.example/a b",
    "https://fr-hub.example:0",
    "https://fr-hub.example:99999",
    "https://fr-hub.example:port",
    "https://fr-hub.example/" + "a" * 2048,
    "",
]


@pytest.mark.parametrize(("url", "base"), ACCEPTED)
def test_accepted_urls_and_their_base(url, base):
    assert peer_base_url(url, allow_http=False) == base


@pytest.mark.parametrize("url", REFUSED)
def test_refused_urls(url):
    with pytest.raises(InvalidPeerUrl) as refused:
        peer_base_url(url, allow_http=False)
    assert refused.value.field == ["url"]


def test_plain_http_anywhere_only_when_allowed():
    assert peer_base_url("http://fr-hub.example/", allow_http=True) == "http://fr-hub.example"
    with pytest.raises(InvalidPeerUrl, match="CASEHUB_FEDERATION_ALLOW_HTTP"):
        peer_base_url("http://fr-hub.example/", allow_http=False)
    with pytest.raises(InvalidPeerUrl):  # the setting allows http, not other schemes
        peer_base_url("ftp://fr-hub.example/", allow_http=True)


@pytest.mark.parametrize("value", [None, 7, b"https://fr-hub.example"])
def test_a_url_that_is_not_text_is_refused(value):
    with pytest.raises(InvalidPeerUrl):
        peer_base_url(value, allow_http=True)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("::1", True), ("10.0.0.1", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback
