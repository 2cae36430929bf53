"""A peer's agencies' accredited signing keys crossing in its directory, on both engines: each
key checked against the peer hub's accreditation JWKS before it is stored (a forged, foreign
or mismatched one refused and audited, the rest applied), revoked later, withdrawn and listed
again; shown in GraphQL as the agency's `signingKeys`; this hub's accredited keys published
with its JWKS; and a step a peer's agency signed verifying under the peer's JWKS only.

This hub (HUB) shares the suite's database and accreditation keys (its keyring is a copy of
the suite's with a hub identity added), so that keys accredited through the suite's GraphQL
API are this hub's own when it publishes."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlmodel import col

from casehub.api.ids import to_global_id
from casehub.crypto import LocalKeyring
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.federation_envelopes import seal_envelope
from casehub.crypto.federation_outbox import open_from_self
from casehub.crypto.rotation import add_hub_identity
from casehub.crypto.statements import SignedStep, verify_step
from casehub.domain.buckets import Rate
from casehub.domain.enums import Role
from casehub.domain.federation.directory import DIRECTORY
from casehub.domain.federation.directory_keys import KEYS_PER_AGENCY_MAX, OWN_HUB_KEY
from casehub.domain.federation.envelopes import EnvelopeRefused, RefusalCode, format_moment
from casehub.domain.federation.outbox import self_seal_binding
from casehub.domain.ids import new_id
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.accreditation import (
    accreditation_statement,
    revocation_statement,
)
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import (
    StepContent,
    StepStatus,
    new_nonce,
    statement_bytes,
    statement_of,
)
from casehub.persistence.tables import FederationOutboxRow, RemoteSigningKeyRow
from casehub.services.federation.directory import directory_conversation, publish_directory
from casehub.services.federation.messages import RefusalLog, receive_envelope
from casehub.services.federation.remote_keys import peer_accreditation_keys, remote_key_jwks
from casehub.services.ratelimit import RateLimiter
from casehub.services.runtime import Runtime, open_scope
from tests.api.test_federation_directory import Fr, Peer, agency, events, pin
from tests.conftest import GraphQL
from tests.signing_support import REVOKE, accredited_key, uuid_of

WINDOW = timedelta(seconds=300)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HYBRID = SigningAlgorithm.ED25519_ML_DSA_65


@pytest.fixture(scope="session")
def hub_keyring(tmp_path_factory: pytest.TempPathFactory, keyring_path: Path) -> Path:
    path = tmp_path_factory.mktemp("hub-keys") / "keyring.json"
    shutil.copyfile(keyring_path, path)
    path.chmod(0o600)
    add_hub_identity(path, "HUB")
    return path


@pytest.fixture(scope="session")
async def hub(runtime: Runtime, hub_keyring: Path) -> Fr:
    keys = LocalKeyring.load(hub_keyring)
    settings = runtime.settings.model_copy(update={"keyring": hub_keyring})
    return Fr(keys.hub_identity(), dataclasses.replace(runtime, keys=keys, settings=settings))


@dataclasses.dataclass
class PeerHub:
    """A pinned peer and its hub's accreditation key (hybrid, as a keyring holds it)."""

    peer: Peer
    accreditor: AgencyPrivateKey

    @property
    def hub_id(self) -> UUID:
        return self.peer.hub_id

    def jwks(self, *extra: dict[str, Any]) -> dict[str, Any]:
        public = self.accreditor.public
        return {"keys": [{**public.to_jwk(), "kid": public.thumbprint}, *extra]}


async def peer_hub(hub: Fr, name: str) -> PeerHub:
    return PeerHub(await pin(hub, name), AgencyPrivateKey.generate(HYBRID))


def signed(signer: AgencyPrivateKey, statement: dict[str, Any]) -> dict[str, str]:
    text = statement_bytes(statement)
    return {"statement": text.decode("utf-8"), "signature": signer.sign(text)}


def key_entry(
    accreditor: AgencyPrivateKey,
    entry: dict[str, Any],
    key: AgencyPrivateKey,
    *,
    revoked_at: datetime | None = None,
    key_id: UUID | None = None,
    **accreditation: Any,
) -> dict[str, Any]:
    """A `signingKeys` entry as the peer publishes it: `key` accredited (for a year from T0,
    unless `accreditation` says otherwise) for the entry's agency by `accreditor`."""
    public = key.public
    statement = accreditation_statement(
        **{
            "agency": entry["id"],
            "code": entry["code"],
            "jurisdiction": entry["jurisdiction"],
            "kind": entry["kind"],
            "algorithm": public.algorithm,
            "thumbprint": public.thumbprint,
            "not_before": T0,
            "not_after": T0 + timedelta(days=365),
            "issued_at": T0,
            **accreditation,
        }
    )
    revocation = None
    if revoked_at is not None:
        revocation = signed(
            accreditor,
            revocation_statement(
                agency=entry["id"],
                thumbprint=public.thumbprint,
                revoked_at=revoked_at,
                reason="key lost",
            ),
        )
    return {
        "id": str(key_id or new_id()),
        "publicKey": statement_bytes(public.to_jwk()).decode("ascii"),
        "thumbprint": public.thumbprint,
        "algorithm": public.algorithm.value,
        "registeredAt": format_moment(T0 - timedelta(days=1)),
        "accreditation": {**signed(accreditor, statement), "hubKey": accreditor.public.thumbprint},
        "revocation": revocation,
    }


async def send(
    hub: Fr,
    peer: PeerHub,
    issued_at: datetime,
    entries: list[dict[str, Any]],
    jwks: dict[str, Any] | None = None,
) -> bytes:
    """The peer's directory with its JWKS (unless given), received by HUB; the ack."""
    body = seal_envelope(
        peer.peer.identity,
        hub.identity.public,
        type=DIRECTORY,
        conversation=directory_conversation(hub.identity.hub_id),
        sequence=next(peer.peer.sequences),
        payload={
            "issuedAt": format_moment(issued_at),
            "agencies": entries,
            "accreditationKeys": jwks or peer.jwks(),
        },
    )
    refusals = RefusalLog(RateLimiter(Rate(1.0, 60)))
    return await receive_envelope(hub.runtime, body=body, window=WINDOW, refusals=refusals)


async def keys_of(runtime: Runtime, hub_id: UUID) -> dict[str, RemoteSigningKeyRow]:
    """The peer's agencies' keys at HUB, by thumbprint."""
    async with open_scope(runtime) as scope:
        return {row.thumbprint: row for row in await scope.store.remote_keys_of_hub(hub_id)}


async def key_count(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(RemoteSigningKeyRow)


KEYS = """query($id: ID!) { node(id: $id) { ... on Agency { signingKeys {
  id thumbprint algorithm publicKey state registeredAt agency { id }
  accreditation { statement signature hubKey notBefore notAfter accreditedAt }
  revocation { statement signature revokedAt reason } } } } }"""


async def test_accredited_keys_cross_verified_and_are_shown_as_the_agency_s(
    hub: Fr, gql: GraphQL, world: Any
) -> None:
    peer = await peer_hub(hub, "KEYS")
    entry = agency("K-ONE")
    plain, hybrid = (
        AgencyPrivateKey.generate(SigningAlgorithm.ED25519),
        AgencyPrivateKey.generate(HYBRID),
    )
    listed = [key_entry(peer.accreditor, entry, plain), key_entry(peer.accreditor, entry, hybrid)]
    await send(hub, peer, T0, [{**entry, "signingKeys": listed}])

    held = await keys_of(hub.runtime, peer.hub_id)
    assert set(held) == {plain.public.thumbprint, hybrid.public.thumbprint}
    row = held[plain.public.thumbprint]
    assert str(row.id) == listed[0]["id"]  # the key's id at its home hub
    assert (str(row.agency_id), row.home_hub_id) == (entry["id"], peer.hub_id)
    assert row.public_jwk == listed[0]["publicKey"]
    assert row.accreditation == listed[0]["accreditation"]["statement"]
    assert row.accreditation_key == peer.accreditor.public.thumbprint
    assert (row.not_before, row.not_after, row.accredited_at) == (
        T0,
        T0 + timedelta(days=365),
        T0,
    )
    assert (row.revoked_at, row.withdrawn_at) == (None, None)
    assert held[hybrid.public.thumbprint].algorithm == HYBRID.value
    assert await peer_accreditation_keys_of(hub, peer) == peer.jwks()
    (applied,) = await events(hub.runtime, "federation.directory_apply", peer.hub_id)
    assert (applied["keysAdded"], applied["keyConflicts"]) == (2, 0)

    reader = (await world.agency("KRD")).tokens[Role.READER.value]
    body = await gql(reader, KEYS, {"id": to_global_id("Agency", UUID(entry["id"]))})
    assert "errors" not in body, body
    shown = {key["thumbprint"]: key for key in body["data"]["node"]["signingKeys"]}
    first = shown[plain.public.thumbprint]
    assert first["id"] == to_global_id("AgencySigningKey", UUID(listed[0]["id"]))
    assert (first["algorithm"], first["state"], first["publicKey"]) == (
        "ED25519",
        "ACCREDITED",
        listed[0]["publicKey"],
    )
    assert first["registeredAt"] == (T0 - timedelta(days=1)).isoformat()
    assert first["agency"]["id"] == to_global_id("Agency", UUID(entry["id"]))
    assert first["accreditation"] == {
        "statement": listed[0]["accreditation"]["statement"],
        "signature": listed[0]["accreditation"]["signature"],
        "hubKey": peer.accreditor.public.thumbprint,
        "notBefore": T0.isoformat(),
        "notAfter": (T0 + timedelta(days=365)).isoformat(),
        "accreditedAt": T0.isoformat(),
    }
    assert first["revocation"] is None
    # Addressed like a local key: node(id:) finds it.
    body = await gql(
        reader,
        "query($id: ID!) { node(id: $id) { ... on AgencySigningKey { thumbprint state } } }",
        {"id": first["id"]},
    )
    assert body["data"]["node"] == {"thumbprint": plain.public.thumbprint, "state": "ACCREDITED"}


async def peer_accreditation_keys_of(hub: Fr, peer: PeerHub) -> dict[str, Any] | None:
    async with open_scope(hub.runtime) as scope:
        return await peer_accreditation_keys(scope.store, peer.hub_id)


async def test_a_key_revoked_later_withdrawn_and_listed_again(
    hub: Fr, gql: GraphQL, world: Any
) -> None:
    peer = await peer_hub(hub, "LIFE")
    entry = agency("L-ONE")
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    key_id = new_id()
    fresh = key_entry(peer.accreditor, entry, key, key_id=key_id)
    await send(hub, peer, T0, [{**entry, "signingKeys": [fresh]}])

    revoked_at = T0 + timedelta(days=10)
    # As its home hub lists it once revoked: the same accreditation, and the revocation.
    revocation = key_entry(peer.accreditor, entry, key, revoked_at=revoked_at)["revocation"]
    revoked = {**fresh, "revocation": revocation}
    await send(hub, peer, T0 + timedelta(hours=1), [{**entry, "signingKeys": [revoked]}])
    row = (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint]
    assert (row.revoked_at, row.revocation_reason) == (revoked_at, "key lost")
    assert row.revocation == revoked["revocation"]["statement"]
    *_, applied = await events(hub.runtime, "federation.directory_apply", peer.hub_id)
    assert (applied["keysAdded"], applied["keysUpdated"]) == (0, 1)
    reader = (await world.agency("LRD")).tokens[Role.READER.value]
    body = await gql(reader, KEYS, {"id": to_global_id("Agency", UUID(entry["id"]))})
    (shown,) = body["data"]["node"]["signingKeys"]
    assert shown["state"] == "REVOKED"
    assert shown["revocation"]["revokedAt"] == revoked_at.isoformat()
    assert shown["revocation"]["reason"] == "key lost"

    # A directory that drops the revocation: refused for that key, the revocation kept.
    await send(hub, peer, T0 + timedelta(hours=2), [{**entry, "signingKeys": [fresh]}])
    row = (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint]
    assert row.revoked_at == revoked_at
    (changed,) = await events(hub.runtime, "federation.directory_conflict", peer.hub_id)
    assert (changed["refusal"], changed["_object"]) == ("KEY_CHANGED", key_id)

    # No longer listed: kept (it may have signed steps), withdrawn.
    await send(hub, peer, T0 + timedelta(hours=3), [entry])
    row = (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint]
    assert row.withdrawn_at is not None
    assert row.revoked_at == revoked_at
    # Listed again: no longer withdrawn.
    await send(hub, peer, T0 + timedelta(hours=4), [{**entry, "signingKeys": [revoked]}])
    row = (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint]
    assert row.withdrawn_at is None
    # The agency delisted: its keys withdrawn with it, kept.
    await send(hub, peer, T0 + timedelta(hours=5), [])
    assert (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint].withdrawn_at
    # An older directory changes nothing, keys included.
    await send(hub, peer, T0, [{**entry, "signingKeys": [fresh]}])
    assert (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint].withdrawn_at


def _other_hub_key() -> AgencyPrivateKey:
    return AgencyPrivateKey.generate(HYBRID)


# How a key entry is spoilt, and the reason of its KEY_NOT_VERIFIED.
def forged_accreditation(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    forger = _other_hub_key()  # not in the peer's JWKS
    spoilt = key_entry(forger, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    spoilt["accreditation"]["hubKey"] = peer.accreditor.public.thumbprint
    return spoilt, None, verdicts.ACCREDITATION_SIGNATURE


def accredited_by_the_receiver(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    # The peer copies this hub's JWKS into its own and hands over a statement signed with
    # this hub's key: a peer's key is never accredited by this hub.
    mine = hub.runtime.keys.accreditation_signer()
    spoilt = key_entry(mine, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    jwks = peer.jwks(*hub.runtime.keys.accreditation_public_keys()["keys"])
    return spoilt, jwks, OWN_HUB_KEY


def receiver_key_under_the_peer_s_name(
    hub: Fr, peer: PeerHub, entry: dict[str, Any]
) -> tuple[Any, ...]:
    spoilt, jwks, _ = accredited_by_the_receiver(hub, peer, entry)
    spoilt["accreditation"]["hubKey"] = peer.accreditor.public.thumbprint
    return spoilt, jwks, verdicts.ACCREDITATION_SIGNATURE


def another_agency(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    return key_entry(peer.accreditor, entry, key, agency=new_id()), None, verdicts.NOT_ACCREDITED


def another_algorithm(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    spoilt = key_entry(peer.accreditor, entry, key, algorithm=HYBRID)
    return spoilt, None, verdicts.NOT_ACCREDITED


def another_key(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    other = AgencyPrivateKey.generate(SigningAlgorithm.ED25519).public.thumbprint
    spoilt = key_entry(peer.accreditor, entry, key, thumbprint=other)
    return spoilt, None, verdicts.NOT_ACCREDITED


def thumbprint_mismatch(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    spoilt = key_entry(peer.accreditor, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    spoilt["thumbprint"] = AgencyPrivateKey.generate(SigningAlgorithm.ED25519).public.thumbprint
    return spoilt, None, "thumbprint"


def algorithm_mismatch(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    spoilt = key_entry(peer.accreditor, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    spoilt["algorithm"] = HYBRID.value
    return spoilt, None, "thumbprint"


def private_jwk(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    spoilt = key_entry(peer.accreditor, entry, key)
    spoilt["publicKey"] = json.dumps({**key.public.to_jwk(), "d": "A" * 43})
    return spoilt, None, verdicts.KEY


def forged_revocation(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    spoilt = key_entry(peer.accreditor, entry, key, revoked_at=T0 + timedelta(days=1))
    forger = _other_hub_key()
    spoilt["revocation"] = signed(
        forger,
        revocation_statement(
            agency=entry["id"],
            thumbprint=key.public.thumbprint,
            revoked_at=T0,
            reason="x",
        ),
    )
    return spoilt, None, verdicts.REVOCATION_SIGNATURE


def revocation_of_another_agency(hub: Fr, peer: PeerHub, entry: dict[str, Any]) -> tuple[Any, ...]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    spoilt = key_entry(peer.accreditor, entry, key)
    spoilt["revocation"] = signed(
        peer.accreditor,
        revocation_statement(
            agency=new_id(), thumbprint=key.public.thumbprint, revoked_at=T0, reason="x"
        ),
    )
    return spoilt, None, verdicts.REVOCATION_SIGNATURE


SPOILT = {
    "a forged accreditation": forged_accreditation,
    "an accreditation by the receiver's own key": accredited_by_the_receiver,
    "the receiver's key under the peer's name": receiver_key_under_the_peer_s_name,
    "an accreditation of another agency": another_agency,
    "an accreditation of another algorithm": another_algorithm,
    "an accreditation of another key": another_key,
    "a thumbprint that is not the JWK's": thumbprint_mismatch,
    "an algorithm that is not the JWK's": algorithm_mismatch,
    "a JWK with a private member": private_jwk,
    "a forged revocation": forged_revocation,
    "a revocation of another agency": revocation_of_another_agency,
}


@pytest.mark.parametrize("spoil", SPOILT.values(), ids=SPOILT.keys())
async def test_a_key_that_does_not_verify_is_refused_and_audited_the_rest_applied(
    hub: Fr, spoil: Any
) -> None:
    peer = await peer_hub(hub, "SPOIL")
    entry = agency("S-ONE")
    good = key_entry(peer.accreditor, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    spoilt, jwks, reason = spoil(hub, peer, entry)
    await send(hub, peer, T0, [{**entry, "signingKeys": [spoilt, good]}], jwks)

    assert set(await keys_of(hub.runtime, peer.hub_id)) == {good["thumbprint"]}
    async with open_scope(hub.runtime) as scope:
        assert await scope.store.agencies_by_ids([UUID(entry["id"])])  # the agency applied
    (refused,) = await events(hub.runtime, "federation.directory_conflict", peer.hub_id)
    assert refused == {
        "sender": str(peer.hub_id),
        "message": refused["message"],
        "agency": entry["id"],
        "thumbprint": spoilt["thumbprint"],
        "refusal": "KEY_NOT_VERIFIED",
        "reason": reason,
        "_outcome": "CONFLICT",
        "_object": UUID(spoilt["id"]),
    }
    (applied,) = await events(hub.runtime, "federation.directory_apply", peer.hub_id)
    assert (applied["added"], applied["keysAdded"], applied["keyConflicts"]) == (1, 1, 1)
    # This hub's own accreditation keys never stand in a peer's JWKS here.
    stored = await peer_accreditation_keys_of(hub, peer)
    assert stored == peer.jwks()


async def test_a_key_id_held_elsewhere_is_refused(hub: Fr, gql: GraphQL, world: Any) -> None:
    local = await world.agency("KTK")
    _key, local_key = await accredited_key(
        gql, local.tokens["AGENCY_ADMIN"], local.tokens["HUB_ADMIN"]
    )
    first, second = await peer_hub(hub, "TK1"), await peer_hub(hub, "TK2")
    theirs = agency("T-FIRST")
    taken = key_entry(first.accreditor, theirs, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    await send(hub, first, T0, [{**theirs, "signingKeys": [taken]}])

    mine = agency("T-SECOND")
    generate = AgencyPrivateKey.generate
    local_id = uuid_of(local_key)
    hijack_local = key_entry(
        second.accreditor, mine, generate(SigningAlgorithm.ED25519), key_id=local_id
    )
    hijack_peer = key_entry(
        second.accreditor, mine, generate(SigningAlgorithm.ED25519), key_id=UUID(taken["id"])
    )
    await send(hub, second, T0, [{**mine, "signingKeys": [hijack_local, hijack_peer]}])
    assert await keys_of(hub.runtime, second.hub_id) == {}
    conflicts = await events(hub.runtime, "federation.directory_conflict", second.hub_id)
    assert [(c["refusal"], c["_object"]) for c in conflicts] == [
        ("KEY_TAKEN", local_id),
        ("KEY_TAKEN", UUID(taken["id"])),
    ]
    (kept,) = (await keys_of(hub.runtime, first.hub_id)).values()
    assert str(kept.agency_id) == theirs["id"]


async def test_too_many_keys_refuse_the_whole_directory(hub: Fr) -> None:
    peer = await peer_hub(hub, "MANY")
    entry = agency("M-ONE")
    one = key_entry(peer.accreditor, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519))
    # Refused on its shape, before any signature is read: short stand-ins keep the payload
    # under its 512 KiB.
    listed = [
        {
            **one,
            "id": str(new_id()),
            "thumbprint": f"{n:043d}",
            "accreditation": {**one["accreditation"], "signature": "s"},
        }
        for n in range(KEYS_PER_AGENCY_MAX + 1)
    ]
    before = await key_count(hub.runtime)
    with pytest.raises(EnvelopeRefused) as refused:
        await send(hub, peer, T0, [{**entry, "signingKeys": listed}])
    assert refused.value.code is RefusalCode.MALFORMED
    assert f"lists more than {KEYS_PER_AGENCY_MAX} keys" in refused.value.message
    assert await key_count(hub.runtime) == before
    assert await peer_accreditation_keys_of(hub, peer) is None
    async with open_scope(hub.runtime) as scope:
        assert await scope.store.agencies_of_hub(peer.hub_id) == []


async def test_publishing_lists_this_hub_s_accredited_keys_and_its_jwks(
    hub: Fr, gql: GraphQL, world: Any
) -> None:
    mine = await world.agency("PKY")
    admin, hub_admin = mine.tokens["AGENCY_ADMIN"], mine.tokens["HUB_ADMIN"]
    _kept, kept_id = await accredited_key(gql, admin, hub_admin)
    _revoked, revoked_id = await accredited_key(gql, admin, hub_admin, HYBRID)
    body = await gql(admin, REVOKE, {"i": {"id": revoked_id, "reason": "rotated"}})
    assert body["data"]["revokeAgencySigningKey"]["errors"] == [], body
    registered = await gql(
        admin,
        "mutation($i: RegisterAgencySigningKeyInput!) { registerAgencySigningKey(input: $i) "
        "{ key { thumbprint } errors { code } } }",
        {
            "i": {
                "publicKey": statement_bytes(
                    AgencyPrivateKey.generate(SigningAlgorithm.ED25519).public.to_jwk()
                ).decode("ascii")
            }
        },
    )
    unaccredited = registered["data"]["registerAgencySigningKey"]["key"]["thumbprint"]
    peer = await pin(hub, "PKY")

    published = await publish_directory(hub.runtime, peer.hub_id)
    async with open_scope(hub.runtime) as scope:
        statement = select(FederationOutboxRow).where(
            col(FederationOutboxRow.message_id) == published.messages[peer.hub_id]
        )
        row = (await scope.store.session.execute(statement)).scalar_one()
    sent = open_from_self(
        hub.identity,
        row.payload,
        self_seal_binding(row.message_id, row.peer, row.conversation, row.type),
    )
    assert sent["accreditationKeys"] == hub.runtime.keys.accreditation_public_keys()
    (entry,) = [e for e in sent["agencies"] if e["id"] == str(mine.uuid)]
    listed = {key["id"]: key for key in entry["signingKeys"]}
    assert set(listed) == {str(uuid_of(kept_id)), str(uuid_of(revoked_id))}
    assert unaccredited not in {key["thumbprint"] for key in listed.values()}
    kept, revoked = listed[str(uuid_of(kept_id))], listed[str(uuid_of(revoked_id))]
    assert kept["revocation"] is None
    assert revoked["algorithm"] == HYBRID.value
    assert json.loads(revoked["revocation"]["statement"])["reason"] == "rotated"
    assert published.keys == sum(len(e["signingKeys"]) for e in sent["agencies"])
    # What a peer receives verifies there: the keys' statements under the JWKS sent.
    own = {jwk["kid"] for jwk in sent["accreditationKeys"]["keys"]}
    assert kept["accreditation"]["hubKey"] in own


async def test_a_step_a_peer_s_agency_signed_verifies_under_the_peer_s_jwks_only(
    hub: Fr,
) -> None:
    peer = await peer_hub(hub, "STEP")
    entry = agency("V-ONE")
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    listed = key_entry(peer.accreditor, entry, key)
    await send(hub, peer, T0, [{**entry, "signingKeys": [listed]}])
    row = (await keys_of(hub.runtime, peer.hub_id))[key.public.thumbprint]

    content = StepContent(
        action="SUBMIT",
        request=new_id(),
        kind="INFORMATION_REQUEST",
        priority="ROUTINE",
        requester=entry["id"],
        requested=new_id(),
        legal_basis=None,
        body_sha256="0" * 64,
        particulars_sha256="1" * 64,
    )
    statement = statement_bytes(
        statement_of(
            content,
            agency=entry["id"],
            principal=new_id(),
            key=key.public.thumbprint,
            issued_at=T0 + timedelta(days=1),
            nonce=new_nonce(),
        )
    )
    step = SignedStep(
        statement=statement.decode("utf-8"),
        signature=key.sign(statement),
        public_jwk=row.public_jwk,
        accreditation=row.accreditation,
        accreditation_signature=row.accreditation_signature,
        accreditation_key=row.accreditation_key,
    )
    async with open_scope(hub.runtime) as scope:
        jwks = await remote_key_jwks(scope.store, row.id)
        assert await remote_key_jwks(scope.store, new_id()) is None
    assert jwks == peer.jwks()
    assert verify_step(step, expected=None, hub_keys=jwks).status is StepStatus.VERIFIED
    ours = verify_step(step, expected=None, hub_keys=hub.runtime.keys.accreditation_public_keys())
    assert (ours.status, ours.reason) == (StepStatus.INVALID, verdicts.ACCREDITATION_SIGNATURE)


async def test_signing_keys_of_a_page_of_agencies_are_read_in_batches(
    hub: Fr, gql: GraphQL, world: Any, sql_counter: Any
) -> None:
    peer = await peer_hub(hub, "BATCH")
    entries = [agency(f"BT-{n}") for n in range(3)]
    await send(
        hub,
        peer,
        T0,
        [
            {
                **entry,
                "signingKeys": [
                    key_entry(
                        peer.accreditor, entry, AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
                    )
                ],
            }
            for entry in entries
        ],
    )
    reader = (await world.agency("BRD")).tokens[Role.READER.value]
    ids = [to_global_id("Agency", UUID(entry["id"])) for entry in entries]
    sql_counter.active = True
    body = await gql(
        reader,
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Agency { signingKeys { thumbprint } } } }",
        {"ids": ids},
    )
    sql_counter.active = False
    assert "errors" not in body, body
    assert [len(node["signingKeys"]) for node in body["data"]["nodes"]] == [1, 1, 1]
    reads = [s for s in sql_counter.statements if "FROM remote_signing_key" in s]
    assert len(reads) == 1, reads
