"""Hub identity: the document, its fingerprint, self-signature, sealing keys and keyring entry."""

from __future__ import annotations

import copy
import hashlib
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from casehub.crypto.agency_keys import AgencyPrivateKey, KeyFormatError
from casehub.crypto.hub_identity import (
    HUB_DOCUMENT_FORMAT,
    SEALING_SEED_BYTES,
    HubIdentity,
    HubPublicIdentity,
    InvalidHubSignature,
)
from casehub.domain.federation.identity import (
    SIGNED_DOCUMENT_MAX_BYTES,
    fingerprints_equal,
    name_problem,
    normalize_fingerprint,
)
from casehub.domain.requests.receipts import b64url_encode
from casehub.domain.signatures import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes

HYBRID = SigningAlgorithm.ED25519_ML_DSA_65
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

# A fixed identity, so the document's bytes and fingerprint are pinned by a known answer.
FIXED_HUB = UUID("01938f4e-7a00-7000-8000-000000000001")
ED_SEED = bytes(range(32))
ML_SEED = bytes(range(32, 64))
SEALING_SEED = bytes(range(64, 64 + SEALING_SEED_BYTES))
# Its fingerprint, computed once: a second implementation must arrive at the same.
FIXED_FINGERPRINT = "sha256:3a8c028904e8847e5d785b920db8eb8111d039f116283ecf51536b874d1701fe"


@pytest.fixture(scope="module")
def hub() -> HubIdentity:
    return HubIdentity.generate("MY")


@pytest.fixture(scope="module")
def other() -> HubIdentity:
    return HubIdentity.generate("FR")


def fixed() -> HubIdentity:
    signing = AgencyPrivateKey.from_seeds(HYBRID, ED_SEED, ML_SEED)
    return HubIdentity(FIXED_HUB, "MY", signing, SEALING_SEED)


# --- the document ----------------------------------------------------------------------------


def test_a_generated_hub_has_a_uuid7_id_and_a_document_of_exactly_its_members(hub):
    assert hub.hub_id.version == 7
    document = hub.public.document()
    assert set(document) == {"format", "hub", "name", "signing", "sealing"}
    assert document["format"] == HUB_DOCUMENT_FORMAT == "casehub-hub/1"
    assert document["hub"] == str(hub.hub_id)
    assert document["name"] == "MY"
    assert document["signing"] == hub.signing.public.to_jwk()
    assert set(document["sealing"]) == {"kty", "kem", "pub"}
    assert document["sealing"]["kty"] == "casehub-hpke"
    assert document["sealing"]["kem"] == "MLKEM768-X25519"
    assert len(hub.public.sealing) == 1184 + 32


def test_the_document_and_fingerprint_of_fixed_keys_are_computed_from_the_raw_keys():
    identity = fixed()
    mlkem = MLKEM768PrivateKey.from_seed_bytes(SEALING_SEED[:64]).public_key()
    x25519 = X25519PrivateKey.from_private_bytes(SEALING_SEED[64:]).public_key()
    expected: dict[str, object] = {
        "format": "casehub-hub/1",
        "hub": "01938f4e-7a00-7000-8000-000000000001",
        "name": "MY",
        "signing": AgencyPrivateKey.from_seeds(HYBRID, ED_SEED, ML_SEED).public.to_jwk(),
        "sealing": {
            "kty": "casehub-hpke",
            "kem": "MLKEM768-X25519",
            "pub": b64url_encode(mlkem.public_bytes_raw() + x25519.public_bytes_raw()),
        },
    }
    assert identity.public.document() == expected
    assert identity.public.document_text == statement_bytes(expected).decode()
    digest = hashlib.sha256(statement_bytes(expected)).hexdigest()
    assert identity.public.fingerprint() == f"sha256:{digest}" == FIXED_FINGERPRINT


def test_the_fingerprint_changes_with_every_member(hub):
    renamed = HubPublicIdentity(hub.hub_id, "MY2", hub.public.signing, hub.public.sealing)
    assert renamed.fingerprint() != hub.public.fingerprint()
    moved = HubPublicIdentity(UUID(int=1), "MY", hub.public.signing, hub.public.sealing)
    assert moved.fingerprint() != hub.public.fingerprint()


def test_a_document_round_trips_and_its_text_parses_back(hub):
    public = HubPublicIdentity.from_document(hub.public.document())
    assert public == hub.public
    assert HubPublicIdentity.from_document_text(hub.public.document_text) == hub.public


def _edited(hub: HubIdentity, edit) -> dict[str, object]:
    document = copy.deepcopy(hub.public.document())
    edit(document)
    return document


def _set(path: tuple[str, ...], value):
    def edit(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _drop(path: tuple[str, ...]):
    def edit(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


REFUSED_DOCUMENTS = {
    "missing member": _drop(("name",)),
    "unknown member": _set(("extra",), "x"),
    "wrong format": _set(("format",), "casehub-hub/2"),
    "hub not a uuid": _set(("hub",), "MY"),
    "hub uppercase": lambda d: d.update(hub=d["hub"].upper()),
    "empty name": _set(("name",), ""),
    "long name": _set(("name",), "x" * 101),
    "name with newline": _set(("name",), "MY\nFR"),
    "name with bidi control": _set(("name",), "MY\u202e"),
    "name padded": _set(("name",), " MY"),
    "signing not an object": _set(("signing",), "key"),
    "signing Ed25519 only": lambda d: d.update(signing=d["signing"]["ed25519"]),
    "signing with private half": _set(("signing", "ed25519", "d"), "AAAA"),
    "signing with an extra member": _set(("signing", "ed25519", "use"), "sig"),
    "signing half truncated": lambda d: d["signing"]["mldsa65"].update(
        pub=d["signing"]["mldsa65"]["pub"][:-4]
    ),
    "sealing wrong kty": _set(("sealing", "kty"), "OKP"),
    "sealing wrong kem": _set(("sealing", "kem"), "X25519"),
    "sealing unknown member": _set(("sealing", "alg"), "x"),
    "sealing missing pub": _drop(("sealing", "pub")),
    "sealing short": lambda d: d["sealing"].update(pub=d["sealing"]["pub"][:-43]),
    "sealing not base64url": lambda d: d["sealing"].update(pub="+" + d["sealing"]["pub"][1:]),
}


@pytest.mark.parametrize("case", sorted(REFUSED_DOCUMENTS))
def test_a_malformed_document_is_refused(hub, case):
    with pytest.raises(KeyFormatError):
        HubPublicIdentity.from_document(_edited(hub, REFUSED_DOCUMENTS[case]))


@pytest.mark.parametrize("value", [None, [], "doc", 1])
def test_a_document_that_is_not_an_object_is_refused(value):
    with pytest.raises(KeyFormatError):
        HubPublicIdentity.from_document(value)


def test_a_hub_signing_key_must_be_hybrid(hub):
    ed_only = AgencyPrivateKey.generate(SigningAlgorithm.ED25519).public
    with pytest.raises(KeyFormatError, match="Ed25519\\+ML-DSA-65"):
        HubPublicIdentity(hub.hub_id, "MY", ed_only, hub.public.sealing)


# --- the self-signed document ----------------------------------------------------------------


def test_the_signed_document_verifies_under_its_own_key(hub):
    signed = hub.signed_document()
    assert set(signed) == {"document", "signature"}
    assert HubPublicIdentity.from_signed_document(signed) == hub.public
    assert hub.public.verify(hub.public.document_text.encode(), signed["signature"])


def test_an_edited_signed_document_is_refused_as_a_bad_signature(hub):
    signed = hub.signed_document()
    signed["document"] = _edited(hub, _set(("name",), "FR"))
    with pytest.raises(InvalidHubSignature):
        HubPublicIdentity.from_signed_document(signed)


def test_a_document_signed_by_another_hub_is_refused(hub, other):
    signed = {"document": hub.public.document(), "signature": other.signed_document()["signature"]}
    with pytest.raises(InvalidHubSignature):
        HubPublicIdentity.from_signed_document(signed)


def test_both_halves_of_the_self_signature_must_verify(hub, other):
    ours = hub.signed_document()["signature"].split(".")
    theirs = other.sign(hub.public.document_text.encode()).split(".")
    for mixed in (f"{ours[0]}.{theirs[1]}", f"{theirs[0]}.{ours[1]}", ours[0]):
        with pytest.raises(InvalidHubSignature):
            HubPublicIdentity.from_signed_document(
                {"document": hub.public.document(), "signature": mixed}
            )


@pytest.mark.parametrize(
    "signed",
    [
        None,
        [],
        {"document": {}},
        {"signature": "x"},
        {"document": {}, "signature": "x", "more": 1},
        {"document": "doc", "signature": "x"},
        {"document": {}, "signature": 1},
    ],
)
def test_a_malformed_signed_document_is_refused_as_malformed(signed):
    with pytest.raises(KeyFormatError) as refused:
        HubPublicIdentity.from_signed_document(signed)
    assert not isinstance(refused.value, InvalidHubSignature)


def test_a_signed_body_is_bounded_and_must_be_json(hub):
    import json

    body = json.dumps(hub.signed_document()).encode()
    assert HubPublicIdentity.from_signed_body(body) == hub.public
    with pytest.raises(KeyFormatError, match="at most"):
        HubPublicIdentity.from_signed_body(body + b" " * SIGNED_DOCUMENT_MAX_BYTES)
    with pytest.raises(KeyFormatError, match="JSON"):
        HubPublicIdentity.from_signed_body(body[:-1])


# --- signing and sealing ---------------------------------------------------------------------


def test_verify_never_raises(hub):
    message = b"casehub-federation/1\nabc"
    signature = hub.sign(message)
    assert hub.public.verify(message, signature)
    assert not hub.public.verify(message + b"x", signature)
    assert not hub.public.verify(message, "")
    assert not hub.public.verify(message, "not.a.signature")
    assert not hub.public.verify("text", signature)
    assert not hub.public.verify(message, None)
    assert not hub.public.verify(b"x" * 10_000_000, signature)


def test_a_hub_signs_at_most_what_an_agency_key_signs(hub):
    with pytest.raises(ValueError, match="at most"):
        hub.sign(b"x" * (8 * 1024 + 1))


def test_what_is_sealed_to_a_hub_opens_with_its_private_key_only(hub, other):
    sealed = SUITE.encrypt(b"payload", hub.public.sealing_key(), info=b"info")
    assert SUITE.decrypt(sealed, hub.sealing_private(), info=b"info") == b"payload"
    with pytest.raises(Exception):  # noqa: B017, PT011 - HPKE says only that it failed
        SUITE.decrypt(sealed, other.sealing_private(), info=b"info")


# --- the keyring entry -----------------------------------------------------------------------


def test_the_keyring_entry_round_trips_and_hides_its_secrets_in_repr(hub):
    entry = hub.to_json()
    assert entry["fingerprint"] == hub.public.fingerprint()
    restored = HubIdentity.from_json(entry)
    assert restored.public == hub.public
    assert restored.sealing_seed == hub.sealing_seed
    assert b64url_encode(hub.sealing_seed) not in repr(hub)
    assert entry["signing"]["ed25519"] not in repr(hub)


REFUSED_ENTRIES = {
    "wrong format": _set(("format",), "casehub-hub-key/2"),
    "hub not a uuid": _set(("hub",), "MY"),
    "hub not text": _set(("hub",), 7),
    "bad name": _set(("name",), ""),
    "unknown member": _set(("extra",), 1),
    "missing member": _drop(("fingerprint",)),
    "fingerprint of another hub": _set(("fingerprint",), "sha256:" + "0" * 64),
    "short sealing seed": _set(("sealing",), b64url_encode(bytes(95))),
    "sealing not base64url": _set(("sealing",), "!!"),
    "signing key not a key file": _set(("signing",), {"format": "x"}),
    "signing key Ed25519 only": _set(
        ("signing",), AgencyPrivateKey.generate(SigningAlgorithm.ED25519).to_json()
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_ENTRIES))
def test_a_malformed_keyring_entry_is_refused(hub, case):
    entry = copy.deepcopy(hub.to_json())
    REFUSED_ENTRIES[case](entry)
    with pytest.raises(KeyFormatError):
        HubIdentity.from_json(entry)


def test_a_keyring_entry_is_a_json_object():
    with pytest.raises(KeyFormatError):
        HubIdentity.from_json(["entry"])


def test_a_bad_name_is_refused_when_generating():
    with pytest.raises(KeyFormatError, match="1 to 100"):
        HubIdentity.generate("")


# --- the domain's shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "good"),
    [
        ("MY", True),
        ("Police de France — Paris", True),
        ("x" * 100, True),
        ("", False),
        ("x" * 101, False),
        ("MY ", False),
        ("M\tY", False),
        ("M\u200bY", False),
        ("M\u2028Y", False),
        (7, False),
    ],
)
def test_hub_names(name, good):
    assert (name_problem(name) is None) is good


def test_fingerprints_typed_by_an_operator_are_normalized():
    canonical = "sha256:" + "ab" * 32
    assert normalize_fingerprint(canonical) == canonical
    assert normalize_fingerprint(f"  SHA256:{'AB' * 32}\n") == canonical
    for bad in ("ab" * 32, "sha256:" + "ab" * 31, "sha512:" + "ab" * 32, "sha256:" + "g" * 64, 1):
        assert normalize_fingerprint(bad) is None
    assert fingerprints_equal(canonical, canonical)
    assert not fingerprints_equal(canonical, "sha256:" + "ab" * 31 + "ac")
