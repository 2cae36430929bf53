"""Signed steps changed in the database behind the hub's back: `verification` recomputes every
statement from the request as stored, re-checks every signature with the agency's key and the
hub's accreditation, and compares each with what the step's receipt commits to; so an edit
shows as INVALID (or UNSIGNED, where a required signature is gone with its commitment) for
both parties."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from casehub.config import Settings
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.signatures.statements import new_nonce, signature_digest, statement_bytes
from tests.conftest import Agency
from tests.request_support import three_agencies
from tests.signing_support import SignedHub, signed_hub, uuid_of


@pytest.fixture(scope="module")
async def hub(settings: Settings) -> AsyncIterator[SignedHub]:
    """The app under the default signing policy."""
    async with signed_hub(settings) as built:
        yield built


@dataclass
class Fulfilled:
    """A request to a platform, submitted, accepted and fulfilled, every step signed."""

    hub: SignedHub
    police: Agency
    platform: Agency
    id: str

    @property
    def uuid(self) -> object:
        """The request's id as the database stores it."""
        return self.db(uuid_of(self.id))

    def db(self, value: UUID) -> object:
        """The id as the database stores it."""
        # SQLite stores UUIDs as 32 hex characters; PostgreSQL has a uuid type.
        return value.hex if self.hub.runtime.database.dialect == "sqlite" else value

    async def execute(self, statement: str, **params: Any) -> list[Any]:
        async with self.hub.runtime.database.engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    async def event_id(self, action: str) -> object:
        (row,) = await self.execute(
            "SELECT id FROM request_event WHERE request_id = :r AND action = :a",
            r=self.uuid,
            a=action,
        )
        return row[0]

    async def steps(self, agency: Agency | None = None) -> dict[str, tuple[str, str | None, bool]]:
        """Each signable step's (status, reason, required) as `agency` (default the police)."""
        verification = await self.hub.verification((agency or self.police).token, self.id)
        assert verification is not None
        return {
            step["action"]: (step["status"], step["reason"], step["required"])
            for step in verification
        }

    async def both(self) -> dict[str, tuple[str, str | None, bool]]:
        """The steps as both parties read them, which must agree."""
        police = await self.steps()
        assert await self.steps(self.platform) == police
        return police


@pytest.fixture
async def fulfilled(hub: SignedHub) -> Fulfilled:
    police, platform, _outsider = await three_agencies(hub.world)
    police_key, _ = await hub.key(police)
    platform_key, _ = await hub.key(platform)
    request_id = await hub.req.draft(police.token, platform.id, legalBasis="MLA treaty art. 4")
    steps: list[tuple[Agency, AgencyPrivateKey, str, str, dict[str, Any]]] = [
        (police, police_key, "submit", "SUBMIT", {}),
        (platform, platform_key, "accept", "ACCEPT", {}),
        (platform, platform_key, "fulfil", "FULFIL", {"text": "Data attached.", "outcome": "FULL"}),
    ]
    for agency, key, step, action, given in steps:
        signature = await hub.sign(agency.token, key, agency, request_id, action, **given)
        await hub.req.moved(agency.token, step, request_id, signature=signature)
    request = Fulfilled(hub, police, platform, request_id)
    good = ("VERIFIED", None, True)
    assert await request.both() == {"SUBMIT": good, "ACCEPT": good, "FULFIL": good}
    return request


REQUEST_EDITS: dict[str, tuple[str, dict[str, str]]] = {
    "priority": ("UPDATE cooperation_request SET priority = 'URGENT' WHERE id = :r", {}),
    "legalBasis": ("UPDATE cooperation_request SET legal_basis = 'None' WHERE id = :r", {}),
    "kind": ("UPDATE cooperation_request SET kind = 'DATA_DISCLOSURE' WHERE id = :r", {}),
}


@pytest.mark.parametrize("member", REQUEST_EDITS, ids=REQUEST_EDITS.keys())
async def test_a_request_edited_in_the_database_invalidates_every_step(
    fulfilled: Fulfilled, member: str
) -> None:
    statement, _ = REQUEST_EDITS[member]
    await fulfilled.execute(statement, r=fulfilled.uuid)
    bad = ("INVALID", f"statement:{member}", True)
    assert await fulfilled.both() == {"SUBMIT": bad, "ACCEPT": bad, "FULFIL": bad}


async def test_an_outcome_edited_in_the_database_invalidates_the_fulfilment(
    fulfilled: Fulfilled,
) -> None:
    await fulfilled.execute(
        "UPDATE cooperation_request SET outcome = 'PARTIAL', status = 'PARTIALLY_FULFILLED'"
        " WHERE id = :r",
        r=fulfilled.uuid,
    )
    steps = await fulfilled.both()
    assert steps["FULFIL"] == ("INVALID", "statement:outcome", True)
    assert steps["SUBMIT"] == steps["ACCEPT"] == ("VERIFIED", None, True)


async def test_a_signature_deleted_with_its_commitment_leaves_a_required_step_unsigned(
    fulfilled: Fulfilled,
) -> None:
    event = await fulfilled.event_id("ACCEPT")
    (row,) = await fulfilled.execute("SELECT payload FROM request_event WHERE id = :e", e=event)
    payload = json.loads(row[0])
    del payload["signatures"]
    await fulfilled.execute("DELETE FROM request_signature WHERE event_id = :e", e=event)
    await fulfilled.execute(
        "UPDATE request_event SET payload = :p WHERE id = :e", p=json.dumps(payload), e=event
    )
    steps = await fulfilled.both()
    assert steps["ACCEPT"] == ("UNSIGNED", None, True)
    assert steps["SUBMIT"] == steps["FULFIL"] == ("VERIFIED", None, True)


async def test_a_signature_deleted_alone_is_missing(fulfilled: Fulfilled) -> None:
    event = await fulfilled.event_id("SUBMIT")
    await fulfilled.execute("DELETE FROM request_signature WHERE event_id = :e", e=event)
    steps = await fulfilled.both()
    assert steps["SUBMIT"] == ("INVALID", "signature missing", True)
    assert steps["ACCEPT"] == ("VERIFIED", None, True)


async def _signature_row(fulfilled: Fulfilled, action: str) -> tuple[str, str]:
    (row,) = await fulfilled.execute(
        "SELECT statement, signature FROM request_signature WHERE event_id = :e",
        e=await fulfilled.event_id(action),
    )
    return row[0], row[1]


async def test_a_statement_replaced_in_the_database_no_longer_verifies(
    fulfilled: Fulfilled,
) -> None:
    statement, _signature = await _signature_row(fulfilled, "ACCEPT")
    edited = json.loads(statement)
    edited["nonce"] = new_nonce()
    await fulfilled.execute(
        "UPDATE request_signature SET statement = :s WHERE event_id = :e",
        s=statement_bytes(edited).decode("utf-8"),
        e=await fulfilled.event_id("ACCEPT"),
    )
    steps = await fulfilled.both()
    assert steps["ACCEPT"] == ("INVALID", "signature missing", True)
    verification = await fulfilled.hub.verification(fulfilled.police.token, fulfilled.id)
    assert verification is not None
    (check,) = verification[1]["signatures"]
    assert (check["status"], check["reason"]) == ("INVALID", "signature")


async def test_a_good_signature_moved_to_another_step_is_invalid(fulfilled: Fulfilled) -> None:
    # The platform's own, genuine FULFIL signature put on its ACCEPT step, with the receipt's
    # commitment rewritten to match: the statement still says FULFIL.
    statement, signature = await _signature_row(fulfilled, "FULFIL")
    event = await fulfilled.event_id("ACCEPT")
    await fulfilled.execute(
        "UPDATE request_signature SET statement = :s, signature = :g, nonce = :n"
        " WHERE event_id = :e",
        s=statement,
        g=signature,
        n=new_nonce(),
        e=event,
    )
    (row,) = await fulfilled.execute("SELECT payload FROM request_event WHERE id = :e", e=event)
    payload = json.loads(row[0])
    payload["signatures"] = [signature_digest(statement, signature)]
    await fulfilled.execute(
        "UPDATE request_event SET payload = :p WHERE id = :e", p=json.dumps(payload), e=event
    )
    steps = await fulfilled.both()
    assert steps["ACCEPT"][0] == "INVALID"
    assert steps["ACCEPT"][1] in ("statement:action", "statement:outcome", "statement:textSha256")


async def test_a_second_signature_row_is_extra(fulfilled: Fulfilled) -> None:
    event = await fulfilled.event_id("SUBMIT")
    (row,) = await fulfilled.execute(
        "SELECT request_id, action, key_id, statement, signature, issued_at, created_at"
        " FROM request_signature WHERE event_id = :e",
        e=event,
    )
    copy_id = UUID(int=uuid_of(fulfilled.id).int ^ 1)
    await fulfilled.execute(
        "INSERT INTO request_signature (id, request_id, event_id, action, key_id, statement,"
        " signature, nonce, issued_at, created_at)"
        " VALUES (:i, :r, :e, :a, :k, :s, :sig, :n, :t, :c)",
        i=fulfilled.db(copy_id),
        r=row[0],
        e=event,
        a=row[1],
        k=row[2],
        s=row[3],
        sig=row[4],
        n=new_nonce(),
        t=row[5],
        c=row[6],
    )
    assert (await fulfilled.both())["SUBMIT"] == ("INVALID", "signature extra", True)


KEY_EDITS: dict[str, tuple[str, str]] = {
    "accreditation widened": (
        "UPDATE agency_signing_key SET accreditation = replace(accreditation, '\"kind\"',"
        " '\"kinds\"') WHERE agency_id = :a",
        "accreditation signature",
    ),
    "accreditation dropped": (
        "UPDATE agency_signing_key SET accreditation = NULL WHERE agency_id = :a",
        "key not accredited",
    ),
    "revocation dropped": (
        # Nothing to drop (the key is good): a forged revocation without the hub's signature.
        "UPDATE agency_signing_key SET revocation = accreditation,"
        " revocation_signature = accreditation_signature WHERE agency_id = :a",
        "revocation signature",
    ),
}


@pytest.mark.parametrize("edit", KEY_EDITS.values(), ids=KEY_EDITS.keys())
async def test_a_key_edited_in_the_database_invalidates_its_steps(
    fulfilled: Fulfilled, edit: tuple[str, str]
) -> None:
    statement, reason = edit
    await fulfilled.execute(statement, a=fulfilled.db(fulfilled.police.uuid))
    steps = await fulfilled.both()
    assert steps["SUBMIT"] == ("INVALID", reason, True)
    assert steps["ACCEPT"] == steps["FULFIL"] == ("VERIFIED", None, True)


async def test_a_public_key_swapped_in_the_database_invalidates_its_steps(
    hub: SignedHub, fulfilled: Fulfilled
) -> None:
    other, _ = await hub.key(fulfilled.police)
    await fulfilled.execute(
        "UPDATE agency_signing_key SET public_jwk = :j WHERE agency_id = :a AND thumbprint <> :t",
        j=statement_bytes(other.public.to_jwk()).decode("ascii"),
        a=fulfilled.db(fulfilled.police.uuid),
        t=other.public.thumbprint,
    )
    assert (await fulfilled.both())["SUBMIT"] == ("INVALID", "key", True)


async def test_a_commitment_dropped_from_the_receipt_is_invalid(fulfilled: Fulfilled) -> None:
    event = await fulfilled.event_id("FULFIL")
    (row,) = await fulfilled.execute("SELECT payload FROM request_event WHERE id = :e", e=event)
    payload = json.loads(row[0])
    del payload["signatures"]
    await fulfilled.execute(
        "UPDATE request_event SET payload = :p WHERE id = :e", p=json.dumps(payload), e=event
    )
    assert (await fulfilled.both())["FULFIL"] == ("INVALID", "receipt", True)


async def test_a_genuine_signature_added_to_an_unsigned_step_is_invalid(hub: SignedHub) -> None:
    # Between two police forces a routine step may go unsigned. The requested force signs an
    # ACCEPT statement but accepts without it; written in later beside the step, the genuine
    # signature is not what the step's receipt committed to.
    police = await hub.world.agency("POL", "MY")
    other = await hub.world.agency("POL", "SG")
    key, _key_id = await hub.key(other)
    request_id = await hub.req.draft(police.token, other.id)
    await hub.req.moved(police.token, "submit", request_id)
    signature = await hub.sign(other.token, key, other, request_id, "ACCEPT")
    await hub.req.moved(other.token, "accept", request_id)
    request = Fulfilled(hub, police, other, request_id)
    statement = json.loads(signature["statement"])
    (key_row,) = await request.execute(
        "SELECT id FROM agency_signing_key WHERE thumbprint = :t", t=key.public.thumbprint
    )
    await request.execute(
        "INSERT INTO request_signature (id, request_id, event_id, action, key_id, statement,"
        " signature, nonce, issued_at, created_at)"
        " VALUES (:i, :r, :e, 'ACCEPT', :k, :s, :sig, :n, :t, :t)",
        i=request.db(UUID(int=uuid_of(request_id).int ^ 2)),
        r=request.uuid,
        e=await request.event_id("ACCEPT"),
        k=key_row[0],
        s=signature["statement"],
        sig=signature["signature"],
        n=statement["nonce"],
        t=hub.now(),
    )
    assert await request.both() == {
        "SUBMIT": ("UNSIGNED", None, False),
        "ACCEPT": ("INVALID", "receipt", False),
    }
