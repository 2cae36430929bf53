"""An agency's accredited signing key crossing between two real hubs on loopback: MY (the
engine under test: SQLite, then PostgreSQL) registers and accredits a key of its agency
through its GraphQL API, publishes its directory and delivers it; FR, a real `casehub serve`
with its own SQLite database and keyring, shows the key as the agency's `signingKeys`, keeps
MY's accreditation JWKS, and a step the agency signs verifies at FR under MY's JWKS, never
under FR's own."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.statements import SignedStep, verify_step
from casehub.domain.ids import new_id
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import (
    StepContent,
    StepStatus,
    new_nonce,
    statement_bytes,
    statement_of,
)
from tests.federation_delivery_support import ok, serve_at
from tests.integration.test_cli import free_port
from tests.integration.test_federation_directory_delivery import Pair, pair
from tests.signing_support import ACCREDIT, REGISTER, uuid_of

__all__ = ["pair"]  # the two hubs, a module fixture

KEYS = """{ agencies(first: 100) { edges { node { code signingKeys {
  id thumbprint algorithm publicKey state
  accreditation { statement signature hubKey } revocation { statement } } } } } }"""


def graphql(base: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_an_accredited_key_crosses_and_verifies_under_the_home_hub_s_keys(pair: Pair) -> None:
    police = ok(
        pair.my,
        *("agency", "add", "--code", "MY-KEYS", "--name", "Polis Diraja Malaysia"),
        *("--jurisdiction", "MY", "--kind", "LAW_ENFORCEMENT"),
    )
    admin = pair.my.token("MY-KEYS", "AGENCY_ADMIN")
    hub_admin = pair.my.token("MY-KEYS", "HUB_ADMIN")
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    my_base = serve_at(pair.my, free_port())
    try:
        registered = graphql(my_base, admin, REGISTER, {"i": {"publicKey": public}})
        key_id = registered["registerAgencySigningKey"]["key"]["id"]
        until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        accredited = graphql(
            my_base, hub_admin, ACCREDIT, {"i": {"id": key_id, "notAfter": until}}
        )["accreditAgencySigningKey"]
        assert accredited["errors"] == [], accredited
        my_jwks = httpx.get(f"{my_base}/.well-known/casehub-accreditation.json", timeout=10)
        my_jwks.raise_for_status()
    finally:
        pair.my.stop()

    # `peers add` queues a directory at once; the fixture pins FR at MY before FR pins MY, so
    # that first one may be a dead letter (UNKNOWN_HUB) holding the conversation: retried.
    for dead in ok(pair.my, "federation", "outbox", "--state", "dead"):
        ok(pair.my, "federation", "outbox", "retry", dead["id"])
    published = ok(pair.my, "federation", "directory", "publish", "--peer", pair.fr_id)
    assert list(published["messages"]) == [pair.fr_id]
    ok(pair.my, "federation", "deliver", "--once")
    states = {row["id"]: row["state"] for row in ok(pair.my, "federation", "outbox")}
    assert states[published["messages"][pair.fr_id]] == "DELIVERED", states

    pair.fr.agency("FR-KEYS", "Parquet national financier", "FR", "PROSECUTOR")
    reader = pair.fr.token("FR-KEYS", "READER")
    listed = {
        edge["node"]["code"]: edge["node"]
        for edge in graphql(pair.fr_url, reader, KEYS)["agencies"]["edges"]
    }
    (shown,) = listed["MY-KEYS"]["signingKeys"]
    assert shown["id"] == key_id  # the same global id at both hubs
    assert (shown["thumbprint"], shown["publicKey"], shown["state"]) == (
        key.public.thumbprint,
        public,
        "ACCREDITED",
    )
    assert shown["accreditation"] == {
        "statement": accredited["key"]["accreditation"]["statement"],
        "signature": accredited["key"]["accreditation"]["signature"],
        "hubKey": accredited["key"]["accreditation"]["hubKey"],
    }
    assert shown["revocation"] is None

    # FR keeps MY's accreditation JWKS: a step the agency signs verifies with it, and not
    # with FR's own accreditation keys.
    with sqlite3.connect(pair.fr.root.parent / "fr.db") as connection:
        (stored,) = connection.execute(
            "SELECT accreditation_keys FROM federation_peer WHERE hub_id = ?",
            (UUID(pair.my_id).hex,),
        ).fetchone()
    assert json.loads(stored) == my_jwks.json()
    content = StepContent(
        action="SUBMIT",
        request=new_id(),
        kind="INFORMATION_REQUEST",
        priority="ROUTINE",
        requester=uuid_of(police["id"]),
        requested=new_id(),
        legal_basis=None,
        body_sha256="0" * 64,
        particulars_sha256="1" * 64,
    )
    statement = statement_bytes(
        statement_of(
            content,
            agency=uuid_of(police["id"]),
            principal=new_id(),
            key=key.public.thumbprint,
            issued_at=datetime.now(UTC),
            nonce=new_nonce(),
        )
    )
    step = SignedStep(
        statement=statement.decode("utf-8"),
        signature=key.sign(statement),
        public_jwk=shown["publicKey"],
        accreditation=shown["accreditation"]["statement"],
        accreditation_signature=shown["accreditation"]["signature"],
        accreditation_key=shown["accreditation"]["hubKey"],
    )
    assert verify_step(step, expected=None, hub_keys=json.loads(stored)).verified
    fr_jwks = httpx.get(f"{pair.fr_url}/.well-known/casehub-accreditation.json", timeout=10)
    theirs = verify_step(step, expected=None, hub_keys=fr_jwks.json())
    assert (theirs.status, theirs.reason) == (StepStatus.INVALID, verdicts.ACCREDITATION_SIGNATURE)
