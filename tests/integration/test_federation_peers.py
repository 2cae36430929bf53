"""Pinning peer hubs (casehub.services.federation.peers) over real HTTP, on both engines: a
real `casehub serve` peer is pinned, listed, removed and pinned again; every refusal (bad
input, unreachable, too large, redirected, slow, malformed, forged, another fingerprint, this
hub itself, an unknown hub) is its own error and writes nothing."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from casehub.app import build_runtime
from casehub.config import Environment, Settings
from casehub.crypto import KeyringError, create_keyring
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.domain.errors import Conflict
from casehub.domain.federation.identity import SIGNED_DOCUMENT_MAX_BYTES
from casehub.domain.federation.peers import (
    FingerprintMismatch,
    InvalidFingerprint,
    InvalidPeerUrl,
    PeerDocumentMalformed,
    PeerResponseTooLarge,
    PeerSignatureInvalid,
    PeerUnreachable,
    SelfPeering,
    UnknownPeer,
)
from casehub.domain.ids import new_id
from casehub.persistence.tables import AuditEventRow, FederationPeerRow
from casehub.services.federation import peers
from casehub.services.runtime import Runtime, open_scope
from tests.federation_support import Answer, PeerHub, fake_peer, serving_peer, signed_body
from tests.integration.test_cli import free_port


def _settings(database_url: str, keyring: Path) -> Settings:
    return Settings(env=Environment.PRODUCTION, database_url=database_url, keyring=keyring)


@pytest.fixture(scope="module")
def own_keyring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("own") / "keyring.json"
    create_keyring(path)
    add_hub_identity(path, "MY")
    return path


@pytest.fixture(scope="module")
async def fed(database_url: str, own_keyring: Path) -> AsyncIterator[Runtime]:
    """A runtime whose keyring holds this hub's identity, on the engine under test."""
    runtime = build_runtime(_settings(database_url, own_keyring))
    yield runtime
    await runtime.database.dispose()


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeerHub]:
    """A real peer hub (its own SQLite database and keyring) serving its identity."""
    root = tmp_path_factory.mktemp("peer")
    with serving_peer(root, f"sqlite+aiosqlite:///{root / 'peer.db'}", "FR") as hub:
        yield hub


async def written(runtime: Runtime) -> tuple[list[tuple[Any, ...]], int]:
    """Every peer row and the number of audit events: what a refusal must leave unchanged."""
    async with runtime.database.session() as session:
        rows = (await session.execute(select(FederationPeerRow))).scalars().all()
        events = (await session.execute(select(func.count()).select_from(AuditEventRow))).scalar()
    peers_ = sorted((r.hub_id, r.fingerprint, r.removed_at, r.document) for r in rows)
    return peers_, int(events or 0)


async def last_event(runtime: Runtime, action: str) -> dict[str, Any]:
    async with runtime.database.session() as session:
        statement = (
            select(AuditEventRow)
            .where(col(AuditEventRow.action) == action)
            .order_by(col(AuditEventRow.occurred_at).desc(), col(AuditEventRow.id).desc())
            .limit(1)
        )
        row = (await session.execute(statement)).scalars().one()
    assert row.actor_principal_id is None  # an operator's act
    details: dict[str, Any] = json.loads(row.details)
    return details


async def refused(runtime: Runtime, error: type[Exception], **kwargs: Any) -> Exception:
    """Call add_peer expecting `error`; assert it wrote nothing."""
    before = await written(runtime)
    with pytest.raises(error) as caught:
        await peers.add_peer(runtime, **kwargs)
    assert await written(runtime) == before
    return caught.value


# --- pinning a real peer -----------------------------------------------------------------------


async def test_a_peer_is_pinned_listed_removed_and_pinned_again(fed, peer):
    public = peer.identity.public
    fingerprint = public.fingerprint()
    added = await peers.add_peer(fed, url=peer.base + "/", fingerprint=fingerprint.upper())
    assert (added.hub_id, added.name, added.url) == (public.hub_id, "FR", peer.base)
    assert added.fingerprint == fingerprint
    assert added.removed_at is None
    details = await last_event(fed, "federation.peer_add")
    assert details == {
        "hub": str(public.hub_id),
        "name": "FR",
        "url": peer.base,
        "fingerprint": fingerprint,
        "previous": None,
    }
    async with open_scope(fed) as scope:
        assert await peers.pinned(scope.store, public.hub_id) == public
    assert added in await peers.list_peers(fed)

    removed = await peers.remove_peer(fed, public.hub_id)
    assert removed.removed_at is not None
    details = await last_event(fed, "federation.peer_remove")
    assert details == {"hub": str(public.hub_id), "name": "FR", "fingerprint": fingerprint}
    async with open_scope(fed) as scope:
        assert await peers.pinned(scope.store, public.hub_id) is None
    assert public.hub_id not in {p.hub_id for p in await peers.list_peers(fed)}
    assert removed in await peers.list_peers(fed, removed=True)

    again = await peers.add_peer(fed, url=peer.base, fingerprint=fingerprint)
    assert again.removed_at is None
    assert (await last_event(fed, "federation.peer_add"))["previous"] == fingerprint
    async with open_scope(fed) as scope:
        assert await peers.pinned(scope.store, public.hub_id) == public
    await peers.remove_peer(fed, public.hub_id)


async def test_a_hub_never_pinned_is_not_pinned(fed):
    async with open_scope(fed) as scope:
        assert await peers.pinned(scope.store, new_id()) is None


# --- refusals, each writing nothing ------------------------------------------------------------


async def test_another_fingerprint_is_refused_naming_both(fed, peer):
    other = "sha256:" + "0" * 64
    error = await refused(fed, FingerprintMismatch, url=peer.base, fingerprint=other)
    assert isinstance(error, FingerprintMismatch)
    assert error.expected == other
    assert error.actual == peer.identity.public.fingerprint()
    assert other in str(error)
    assert error.actual in str(error)


@pytest.mark.parametrize("fingerprint", ["", "sha256:abc", "0" * 64, "sha512:" + "0" * 64])
async def test_a_fingerprint_that_is_not_one_is_refused(fed, peer, fingerprint):
    await refused(fed, InvalidFingerprint, url=peer.base, fingerprint=fingerprint)


@pytest.mark.parametrize(
    "url",
    [
        "http://peer.example",  # plain http off loopback
        "ftp://127.0.0.1/",
        "https://user:secret@peer.example",
        "https://peer.example/?x=1",
        "https://peer.example:99999",
        "peer.example",
        "",
    ],
)
async def test_a_url_that_is_not_a_peer_url_is_refused(fed, url):
    await refused(fed, InvalidPeerUrl, url=url, fingerprint="sha256:" + "0" * 64)


async def test_an_unreachable_peer_is_refused(fed):
    url = f"http://127.0.0.1:{free_port()}"
    await refused(fed, PeerUnreachable, url=url, fingerprint="sha256:" + "0" * 64)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(status=404, body=b'{"error": {}}'),
        Answer(status=500),
        Answer(status=204, body=b""),
        Answer(status=302, headers=(("Location", "https://elsewhere.example/"),)),
    ],
    ids=["404", "500", "204", "redirect"],
)
async def test_any_answer_but_200_is_refused_and_redirects_are_not_followed(fed, answer):
    with fake_peer(answer) as url:
        error = await refused(fed, PeerUnreachable, url=url, fingerprint="sha256:" + "0" * 64)
    assert f"HTTP {answer.status}" in str(error)


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "streamed"])
async def test_an_oversized_answer_is_refused(fed, content_length):
    body = b" " * SIGNED_DOCUMENT_MAX_BYTES + b"{}"
    with fake_peer(Answer(body=body, content_length=content_length)) as url:
        await refused(fed, PeerResponseTooLarge, url=url, fingerprint="sha256:" + "0" * 64)


async def test_a_peer_that_trickles_its_answer_is_cut_off(fed, peer):
    body = signed_body(peer.identity)
    with fake_peer(Answer(body=body, trickle=0.05)) as url:
        error = await refused(
            fed,
            PeerUnreachable,
            url=url,
            fingerprint=peer.identity.public.fingerprint(),
            seconds=0.5,
        )
    assert "longer than" in str(error) or "timed out" in str(error)


async def test_a_peer_that_never_answers_is_cut_off(fed):
    # Listening but never accepting: the connection opens, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        error = await refused(
            fed, PeerUnreachable, url=url, fingerprint="sha256:" + "0" * 64, seconds=0.3
        )
    assert "timed out" in str(error)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"document": {}, "signature": ""}'])
async def test_an_answer_that_is_not_a_signed_document_is_refused(fed, body):
    with fake_peer(Answer(body=body)) as url:
        await refused(fed, PeerDocumentMalformed, url=url, fingerprint="sha256:" + "0" * 64)


async def test_a_document_not_signed_by_its_own_key_is_refused(fed, peer):
    forger = HubIdentity.generate("FR")
    forged = {
        "document": peer.identity.public.document(),
        "signature": forger.sign(peer.identity.public.document_text.encode()),
    }
    with fake_peer(Answer(body=json.dumps(forged).encode())) as url:
        await refused(
            fed, PeerSignatureInvalid, url=url, fingerprint=peer.identity.public.fingerprint()
        )


async def test_this_hub_itself_is_refused(fed):
    own = fed.keys.hub_identity()
    with fake_peer(Answer(body=signed_body(own))) as url:
        await refused(fed, SelfPeering, url=url, fingerprint=own.public.fingerprint())


async def test_a_hub_without_an_identity_pins_nothing(database_url, tmp_path, peer):
    keyring = tmp_path / "keyring.json"
    create_keyring(keyring)
    runtime = build_runtime(_settings(database_url, keyring))
    try:
        error = await refused(
            runtime, KeyringError, url=peer.base, fingerprint=peer.identity.public.fingerprint()
        )
        assert "casehub federation init" in str(error)
        assert peers.identity_document(runtime) is None
    finally:
        await runtime.database.dispose()


async def test_removing_a_hub_that_is_not_pinned_is_refused(fed, peer):
    before = await written(fed)
    with pytest.raises(UnknownPeer):
        await peers.remove_peer(fed, new_id())
    fingerprint = peer.identity.public.fingerprint()
    await peers.add_peer(fed, url=peer.base, fingerprint=fingerprint)
    await peers.remove_peer(fed, peer.identity.hub_id)
    middle = await written(fed)
    with pytest.raises(UnknownPeer):  # already removed
        await peers.remove_peer(fed, peer.identity.hub_id)
    assert await written(fed) == middle != before


async def test_two_operators_pinning_one_new_hub_at_once_leave_one_pin(fed):
    newcomer = HubIdentity.generate("DE")
    fingerprint = newcomer.public.fingerprint()
    with fake_peer(Answer(body=signed_body(newcomer))) as url:
        before = await written(fed)
        outcomes = await asyncio.gather(
            *(peers.add_peer(fed, url=url, fingerprint=fingerprint) for _ in range(4)),
            return_exceptions=True,
        )
    pinned = [o for o in outcomes if isinstance(o, peers.Peer)]
    # Whoever lost the race is told to retry (Conflict), never an unexplained error.
    assert pinned
    assert all(isinstance(o, peers.Peer | Conflict) for o in outcomes), outcomes
    rows, events = await written(fed)
    assert [row for row in rows if row[0] == newcomer.hub_id] == [
        (newcomer.hub_id, fingerprint, None, newcomer.public.document_text)
    ]
    assert events == before[1] + len(pinned)
    await peers.remove_peer(fed, newcomer.hub_id)
