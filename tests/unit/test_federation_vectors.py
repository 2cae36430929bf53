"""Known answers of the federation protocol: tests/vectors/federation.json (what a second
implementation checks itself against; docs/FEDERATION.md describes every member). The hubs
are rebuilt from their seeds, every deterministic byte is reproduced, and the envelope and
ack produced once (HPKE and ML-DSA are randomized) must verify and open."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import rfc8785

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.federation_envelopes import (
    open_envelope,
    sign_ack,
    verify_ack,
    verify_envelope,
)
from casehub.crypto.hub_identity import HubIdentity
from casehub.domain.federation.acks import ack_signing_input, parse_ack
from casehub.domain.federation.envelopes import (
    Header,
    digest,
    hpke_info,
    parse_envelope,
    signing_input,
)
from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures.keys import SigningAlgorithm

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "federation.json").read_text("utf-8")
)


def _raw(text: str) -> bytes:
    raw = b64url_decode(text)
    assert raw is not None
    return raw


def _hub(vector: dict[str, Any]) -> HubIdentity:
    seeds = {name: _raw(seed) for name, seed in vector["seeds"].items()}
    signing = AgencyPrivateKey.from_seeds(
        SigningAlgorithm.ED25519_ML_DSA_65, seeds["ed25519"], seeds["mldsa65"]
    )
    return HubIdentity(UUID(vector["hubId"]), vector["name"], signing, seeds["sealing"])


SENDER, RECIPIENT = _hub(VECTORS["sender"]), _hub(VECTORS["recipient"])
ENVELOPE = VECTORS["envelope"].encode("utf-8")


def test_the_hubs_rebuild_from_their_seeds() -> None:
    for hub, vector in ((SENDER, VECTORS["sender"]), (RECIPIENT, VECTORS["recipient"])):
        assert hub.public.document() == vector["document"]
        assert hub.public.fingerprint() == vector["fingerprint"]
        expected = "sha256:" + hashlib.sha256(rfc8785.dumps(vector["document"])).hexdigest()
        assert vector["fingerprint"] == expected


def test_the_header_bytes_are_reproduced() -> None:
    header = VECTORS["header"]
    assert rfc8785.dumps(header).decode() == VECTORS["headerJcs"]
    assert b64url_encode(VECTORS["headerJcs"].encode()) == VECTORS["protected"]
    rebuilt = Header(
        sender=SENDER.hub_id,
        recipient=RECIPIENT.hub_id,
        id=UUID(header["id"]),
        type=header["type"],
        conversation=UUID(header["conversation"]),
        sequence=header["sequence"],
        sent_at=datetime.fromisoformat(header["sentAt"][:-1]).replace(tzinfo=UTC),
    )
    assert rebuilt.canonical().decode() == VECTORS["headerJcs"]
    assert hpke_info(rebuilt.canonical()) == _raw(VECTORS["hpkeInfo"])
    assert _raw(VECTORS["hpkeInfo"]) == b"casehub-federation/1\x00" + VECTORS["headerJcs"].encode()


def test_the_envelope_verifies_and_opens_to_the_payload() -> None:
    envelope = parse_envelope(ENVELOPE)
    members = json.loads(ENVELOPE)
    assert envelope.protected == VECTORS["protected"] == members["protected"]
    assert hashlib.sha256(members["sealed"].encode()).hexdigest() == VECTORS["sealedSha256"]
    expected_input = (
        f"casehub-federation/1\n{VECTORS['protected']}\nsha256:{VECTORS['sealedSha256']}"
    )
    assert signing_input(envelope.protected, envelope.sealed).decode() == expected_input
    assert VECTORS["signingInput"] == expected_input
    verify_envelope(SENDER.public, envelope)
    # Ed25519 is deterministic: the signature's first half is reproduced from the seed.
    assert SENDER.sign(expected_input.encode()).split(".")[0] == VECTORS["signatureEd25519"]
    assert envelope.signature.split(".")[0] == VECTORS["signatureEd25519"]
    opened = open_envelope(RECIPIENT, envelope)
    assert opened.decode() == VECTORS["payloadJcs"] == rfc8785.dumps(VECTORS["payload"]).decode()
    assert digest(ENVELOPE) == VECTORS["envelopeDigest"]


def test_the_ack_verifies_and_its_bytes_are_reproduced() -> None:
    vector = VECTORS["ack"]
    ack = verify_ack(RECIPIENT.public, vector["wire"].encode(), ENVELOPE)
    assert ack.canonical().decode() == vector["ackJcs"] == rfc8785.dumps(vector["members"]).decode()
    assert b64url_encode(vector["ackJcs"].encode()) == vector["ack"]
    assert ack_signing_input(vector["ack"]).decode() == vector["signingInput"]
    assert vector["signingInput"] == "casehub-federation/1 ack\n" + vector["ack"]
    assert vector["members"]["envelope"] == VECTORS["envelopeDigest"]
    header = parse_envelope(ENVELOPE).header
    again = sign_ack(RECIPIENT, header, ack.received_at, ENVELOPE)
    text, signature, _ack = parse_ack(again)
    assert text == vector["ack"]
    assert signature.split(".")[0] == vector["signatureEd25519"]
