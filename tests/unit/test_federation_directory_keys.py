"""Signing keys in the `federation.directory` payload: the optional members (old payloads stay
valid; every malformed shape refused as MALFORMED through the table of message types) and the
pure rules that reconcile the keys a peer lists with the ones this hub holds."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import rfc8785

from casehub.crypto.agency_keys import SIGNATURE_MAX_CHARS
from casehub.crypto.statements import HUB_KEYS_MAX
from casehub.domain.federation.directory import DIRECTORY, directory_payload, parse_directory
from casehub.domain.federation.directory_keys import (
    ACCREDITATION_KEYS_MAX,
    KEYS_PER_AGENCY_MAX,
    PUBLIC_KEY_MAX,
    SIGNATURE_MAX,
    KeyConflict,
    KeyListing,
    KeyPlan,
    KeyRefusal,
    KnownKey,
    key_times,
    reconcile_keys,
)
from casehub.domain.federation.envelopes import EnvelopeRefused, RefusalCode
from casehub.domain.federation.payloads import check_payload
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.services.agencies.signing_keys import PUBLIC_KEY_MAX as SERVICE_PUBLIC_KEY_MAX
from casehub.services.caps import SIGNING_KEYS_PER_AGENCY

ISSUED = "2026-12-05T10:00:00.250Z"
A = "0193a0a0-0000-7000-8000-00000000000a"
B = "0193a0a0-0000-7000-8000-00000000000b"
K1 = "0193a0a0-0000-7000-8000-0000000000c1"
K2 = "0193a0a0-0000-7000-8000-0000000000c2"
PEER = UUID("0193a0a0-0000-7000-8000-0000000000f1")
OTHER = UUID("0193a0a0-0000-7000-8000-0000000000f2")
T1 = "A" * 43
T2 = "B" * 43
HUB = "H" * 43


def key(**overrides: Any) -> dict[str, Any]:
    return {
        "id": K1,
        "publicKey": '{"crv":"Ed25519","kty":"OKP","x":"x"}',
        "thumbprint": T1,
        "algorithm": "Ed25519",
        "registeredAt": ISSUED,
        "accreditation": {"statement": "{}", "signature": "sig", "hubKey": HUB},
        "revocation": None,
        **overrides,
    }


def entry(agency_id: str = A, code: str = "FR-PNF", **overrides: Any) -> dict[str, Any]:
    return {
        "id": agency_id,
        "code": code,
        "name": "Parquet national financier",
        "kind": "PROSECUTOR",
        "jurisdiction": "FR",
        "timezone": "Europe/Paris",
        **overrides,
    }


JWKS = {"keys": [{"kty": "casehub-hybrid", "kid": HUB}]}


def payload(*entries: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"issuedAt": ISSUED, "agencies": list(entries), "accreditationKeys": JWKS, **overrides}


def check(value: dict[str, Any]) -> dict[str, object]:
    return check_payload(DIRECTORY, rfc8785.dumps(value))


def test_the_bounds_are_the_hub_s_own() -> None:
    assert KEYS_PER_AGENCY_MAX == SIGNING_KEYS_PER_AGENCY
    assert PUBLIC_KEY_MAX == SERVICE_PUBLIC_KEY_MAX
    assert SIGNATURE_MAX == SIGNATURE_MAX_CHARS
    assert ACCREDITATION_KEYS_MAX == HUB_KEYS_MAX


ACCEPTED = {
    "the first version (no keys, no accreditationKeys)": {
        "issuedAt": ISSUED,
        "agencies": [entry()],
    },
    "accreditationKeys and no keys": payload(entry()),
    "an empty signingKeys": payload(entry(signingKeys=[])),
    "a key": payload(entry(signingKeys=[key()])),
    "a revoked key": payload(
        entry(signingKeys=[key(revocation={"statement": "{}", "signature": "s"})])
    ),
    "the most keys an agency holds": payload(
        entry(
            signingKeys=[
                key(id=f"0193a0a0-0000-7000-8000-{n:012x}", thumbprint=f"{n:043d}")
                for n in range(KEYS_PER_AGENCY_MAX)
            ]
        )
    ),
    "keys of two agencies": payload(
        entry(signingKeys=[key()]),
        entry(B, "FR-AMF", signingKeys=[key(id=K2, thumbprint=T2)]),
    ),
    "the most hub keys": payload(
        entry(), accreditationKeys={"keys": [{"kid": HUB}] * ACCREDITATION_KEYS_MAX}
    ),
    "the longest public key and signature": payload(
        entry(
            signingKeys=[
                key(
                    publicKey="j" * PUBLIC_KEY_MAX,
                    accreditation={
                        "statement": "{}",
                        "signature": "s" * SIGNATURE_MAX,
                        "hubKey": HUB,
                    },
                )
            ]
        )
    ),
}


@pytest.mark.parametrize("given", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_payloads_with_or_without_keys_are_accepted(given: dict[str, Any]) -> None:
    assert check(given) == given


def _mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The one-key payload with the member at `path` set to value (deleted for DELETE)."""
    base = payload(entry(signingKeys=[key(revocation={"statement": "{}", "signature": "s"})]))
    changed = copy.deepcopy(base)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


DELETE = object()
KEY = ("agencies", 0, "signingKeys", 0)
WHERE = "agencies[0].signingKeys[0]"

REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "accreditationKeys not an object": (
        payload(entry(), accreditationKeys=[]),
        "member 'accreditationKeys'",
    ),
    "accreditationKeys with no key": (
        payload(entry(), accreditationKeys={"keys": []}),
        "member 'accreditationKeys'",
    ),
    "accreditationKeys with another member": (
        payload(entry(), accreditationKeys={**JWKS, "extra": 1}),
        "member 'accreditationKeys'",
    ),
    "accreditationKeys' keys not a list": (
        payload(entry(), accreditationKeys={"keys": {"kid": HUB}}),
        "member 'accreditationKeys'",
    ),
    "a hub key not an object": (
        payload(entry(), accreditationKeys={"keys": [HUB]}),
        "member 'accreditationKeys'",
    ),
    "a hub key without a thumbprint kid": (
        payload(entry(), accreditationKeys={"keys": [{"kid": "short"}]}),
        "member 'accreditationKeys'",
    ),
    "too many hub keys": (
        payload(entry(), accreditationKeys={"keys": [{"kid": HUB}] * (ACCREDITATION_KEYS_MAX + 1)}),
        "member 'accreditationKeys'",
    ),
    "keys without accreditationKeys": (
        {"issuedAt": ISSUED, "agencies": [entry(signingKeys=[key()])]},
        "signing keys come without 'accreditationKeys'",
    ),
    "signingKeys not a list": (
        payload(entry(signingKeys={"0": key()})),
        "agencies[0].signingKeys is not a list",
    ),
    "signingKeys null": (payload(entry(signingKeys=None)), "agencies[0].signingKeys is not a list"),
    "too many keys": (
        payload(
            entry(
                signingKeys=[
                    key(id=f"0193a0a0-0000-7000-8000-{n:012x}", thumbprint=f"{n:043d}")
                    for n in range(KEYS_PER_AGENCY_MAX + 1)
                ]
            )
        ),
        f"lists more than {KEYS_PER_AGENCY_MAX} keys",
    ),
    "a key not an object": (payload(entry(signingKeys=["k"])), f"{WHERE} is not an object"),
    "a key with an unknown member": (
        payload(entry(signingKeys=[key(kid="x")])),
        f"{WHERE} member 'kid'",
    ),
    "a repeated key id": (
        payload(entry(signingKeys=[key()]), entry(B, "FR-AMF", signingKeys=[key(thumbprint=T2)])),
        f"agencies[1].signingKeys[0] repeats the key id {K1}",
    ),
    "a repeated thumbprint": (
        payload(entry(signingKeys=[key(), key(id=K2)])),
        f"agencies[0].signingKeys[1] repeats the thumbprint {T1}",
    ),
    **{
        f"a key without {member}": (_mutated((*KEY, member), DELETE), f"member {member!r}")
        for member in (
            "id",
            "publicKey",
            "thumbprint",
            "algorithm",
            "registeredAt",
            "accreditation",
            "revocation",
        )
    },
    "an id not a lowercase UUID": (_mutated((*KEY, "id"), K1.upper()), "member 'id'"),
    "an empty public key": (_mutated((*KEY, "publicKey"), ""), "member 'publicKey'"),
    "a public key too long": (
        _mutated((*KEY, "publicKey"), "j" * (PUBLIC_KEY_MAX + 1)),
        "member 'publicKey'",
    ),
    "a public key as an object": (
        _mutated((*KEY, "publicKey"), {"kty": "OKP"}),
        "member 'publicKey'",
    ),
    "a thumbprint of the wrong length": (
        _mutated((*KEY, "thumbprint"), T1[:-1]),
        "member 'thumbprint'",
    ),
    "an unknown algorithm": (_mutated((*KEY, "algorithm"), "ES256"), "member 'algorithm'"),
    "registeredAt in statement form": (
        _mutated((*KEY, "registeredAt"), "2026-12-05T10:00:00Z"),
        "member 'registeredAt'",
    ),
    "accreditation not an object": (
        _mutated((*KEY, "accreditation"), "{}"),
        "member 'accreditation'",
    ),
    "accreditation null": (_mutated((*KEY, "accreditation"), None), "member 'accreditation'"),
    "accreditation without hubKey": (
        _mutated((*KEY, "accreditation", "hubKey"), DELETE),
        "member 'accreditation'",
    ),
    "accreditation with another member": (
        _mutated((*KEY, "accreditation", "notAfter"), ISSUED),
        "member 'accreditation'",
    ),
    "an empty accreditation statement": (
        _mutated((*KEY, "accreditation", "statement"), ""),
        "member 'accreditation'",
    ),
    "an accreditation statement too long": (
        _mutated((*KEY, "accreditation", "statement"), "x" * (8 * 1024 + 1)),
        "member 'accreditation'",
    ),
    "an accreditation signature too long": (
        _mutated((*KEY, "accreditation", "signature"), "s" * (SIGNATURE_MAX + 1)),
        "member 'accreditation'",
    ),
    "a hubKey not a thumbprint": (
        _mutated((*KEY, "accreditation", "hubKey"), "hub"),
        "member 'accreditation'",
    ),
    "a revocation not an object": (_mutated((*KEY, "revocation"), "{}"), "member 'revocation'"),
    "a revocation without its signature": (
        _mutated((*KEY, "revocation", "signature"), DELETE),
        "member 'revocation'",
    ),
    "a revocation with a hubKey": (
        _mutated((*KEY, "revocation", "hubKey"), HUB),
        "member 'revocation'",
    ),
    "a revocation signature as a number": (
        _mutated((*KEY, "revocation", "signature"), 1),
        "member 'revocation'",
    ),
}


@pytest.mark.parametrize(("given", "problem"), REFUSED.values(), ids=REFUSED.keys())
def test_every_malformed_key_shape_refuses_the_directory(
    given: dict[str, Any], problem: str
) -> None:
    with pytest.raises(EnvelopeRefused) as refused:
        check(given)
    assert refused.value.code is RefusalCode.MALFORMED
    assert problem in refused.value.message


def test_keys_parse_and_publish_back_as_given() -> None:
    revoked = key(id=K2, thumbprint=T2, revocation={"statement": "{}", "signature": "s"})
    given = payload(entry(signingKeys=[key()]), entry(B, "FR-AMF", signingKeys=[revoked]))
    parsed = parse_directory(check(given))
    first, second = parsed.keys
    assert (first.id, first.agency_id, first.thumbprint) == (UUID(K1), UUID(A), T1)
    assert first.algorithm is SigningAlgorithm.ED25519
    assert first.registered_at == datetime(2026, 12, 5, 10, 0, 0, 250000, tzinfo=UTC)
    assert (first.accreditation, first.accreditation_signature, first.accreditation_key) == (
        "{}",
        "sig",
        HUB,
    )
    assert (first.revocation, second.revocation, second.revocation_signature) == (None, "{}", "s")
    assert second.agency_id == UUID(B)
    assert parsed.accreditation_keys == JWKS
    assert directory_payload(ISSUED, parsed.agencies, parsed.keys, parsed.accreditation_keys) == (
        given
    )
    # Without a JWKS, the first version's payload: no keys anywhere.
    old = directory_payload(ISSUED, parsed.agencies)
    assert "accreditationKeys" not in old
    assert all("signingKeys" not in agency for agency in old["agencies"])
    assert parse_directory(check(old)).keys == ()


def test_key_times_are_read_from_the_statements() -> None:
    accreditation = {
        "notBefore": "2026-12-01T00:00:00Z",
        "notAfter": "2027-12-01T00:00:00Z",
        "issuedAt": "2026-11-30T12:00:00Z",
    }
    times = key_times(accreditation, None)
    assert (times.not_before, times.not_after, times.accredited_at) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 12, 1, tzinfo=UTC),
        datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    assert (times.revoked_at, times.revocation_reason) == (None, None)
    revoked = key_times(accreditation, {"revokedAt": "2027-01-01T00:00:00Z", "reason": "lost"})
    assert (revoked.revoked_at, revoked.revocation_reason) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        "lost",
    )


LISTED = KeyListing(
    id=UUID(K1),
    agency_id=UUID(A),
    public_jwk="{}",
    thumbprint=T1,
    algorithm=SigningAlgorithm.ED25519,
    registered_at=datetime(2026, 12, 1, tzinfo=UTC),
    accreditation="acc",
    accreditation_signature="sig",
    accreditation_key=HUB,
)
REVOKED = replace(LISTED, revocation="rev", revocation_signature="rsig")
OTHER_KEY = replace(LISTED, id=UUID(K2), thumbprint=T2)


def known(listing: KeyListing, hub: UUID = PEER, withdrawn: bool = False) -> KnownKey:
    return KnownKey(listing, hub, withdrawn)


def plan(
    *,
    added: tuple[KeyListing, ...] = (),
    updated: tuple[KeyListing, ...] = (),
    withdrawn: tuple[UUID, ...] = (),
    conflicts: tuple[tuple[KeyListing, KeyRefusal], ...] = (),
) -> KeyPlan:
    return KeyPlan(
        added, updated, withdrawn, tuple(KeyConflict(key, why) for key, why in conflicts)
    )


TAKEN, CHANGED = KeyRefusal.KEY_TAKEN, KeyRefusal.KEY_CHANGED
# (verified listings, listed ids, held under those ids, local ids, held of the peer) -> plan
CASES: dict[str, tuple[tuple[Any, ...], KeyPlan]] = {
    "a new key is added": (((LISTED,), {LISTED.id}, {}, set(), {}), plan(added=(LISTED,))),
    "a known key as it was changes nothing": (
        ((LISTED,), {LISTED.id}, {LISTED.id: known(LISTED)}, set(), {LISTED.id: known(LISTED)}),
        plan(),
    ),
    "a known key revoked since is updated": (
        ((REVOKED,), {LISTED.id}, {LISTED.id: known(LISTED)}, set(), {LISTED.id: known(LISTED)}),
        plan(updated=(REVOKED,)),
    ),
    "a withdrawn key listed again is updated": (
        (
            (LISTED,),
            {LISTED.id},
            {LISTED.id: known(LISTED, withdrawn=True)},
            set(),
            {LISTED.id: known(LISTED, withdrawn=True)},
        ),
        plan(updated=(LISTED,)),
    ),
    "a revocation is never taken back": (
        ((LISTED,), {LISTED.id}, {LISTED.id: known(REVOKED)}, set(), {LISTED.id: known(REVOKED)}),
        plan(conflicts=((LISTED, CHANGED),)),
    ),
    "a revocation is never replaced": (
        (
            (replace(REVOKED, revocation="other"),),
            {LISTED.id},
            {LISTED.id: known(REVOKED)},
            set(),
            {LISTED.id: known(REVOKED)},
        ),
        plan(conflicts=((replace(REVOKED, revocation="other"), CHANGED),)),
    ),
    "an accreditation never changes": (
        (
            (replace(LISTED, accreditation="renewed"),),
            {LISTED.id},
            {LISTED.id: known(LISTED)},
            set(),
            {LISTED.id: known(LISTED)},
        ),
        plan(conflicts=((replace(LISTED, accreditation="renewed"), CHANGED),)),
    ),
    "an id of this hub's own key is taken": (
        ((LISTED,), {LISTED.id}, {}, {LISTED.id}, {}),
        plan(conflicts=((LISTED, TAKEN),)),
    ),
    "an id of another hub's key is taken": (
        ((LISTED,), {LISTED.id}, {LISTED.id: known(LISTED, OTHER)}, set(), {}),
        plan(conflicts=((LISTED, TAKEN),)),
    ),
    "a key moved to another agency of the peer is taken": (
        (
            (replace(LISTED, agency_id=UUID(B)),),
            {LISTED.id},
            {LISTED.id: known(LISTED)},
            set(),
            {LISTED.id: known(LISTED)},
        ),
        plan(conflicts=((replace(LISTED, agency_id=UUID(B)), TAKEN),)),
    ),
    "a thumbprint another key of the peer holds is taken": (
        (
            (replace(OTHER_KEY, thumbprint=T1),),
            {OTHER_KEY.id, LISTED.id},
            {},
            set(),
            {LISTED.id: known(LISTED)},
        ),
        plan(conflicts=((replace(OTHER_KEY, thumbprint=T1), TAKEN),)),
    ),
    "a key no longer listed is withdrawn": (
        ((OTHER_KEY,), {OTHER_KEY.id}, {}, set(), {LISTED.id: known(LISTED)}),
        plan(added=(OTHER_KEY,), withdrawn=(LISTED.id,)),
    ),
    "a key listed but not verified is kept as it was": (
        ((), {LISTED.id}, {}, set(), {LISTED.id: known(LISTED)}),
        plan(),
    ),
    "a key withdrawn already stays so": (
        ((), set(), {}, set(), {LISTED.id: known(LISTED, withdrawn=True)}),
        plan(),
    ),
}


@pytest.mark.parametrize(("given", "expected"), CASES.values(), ids=CASES.keys())
def test_reconcile_keys(given: tuple[Any, ...], expected: KeyPlan) -> None:
    verified, listed, by_id, local, of_peer = given
    assert reconcile_keys(PEER, verified, listed, by_id, local, of_peer) == expected
