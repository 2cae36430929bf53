"""Signed request steps under the hub's default policy (emergency-or-service-provider): which
steps must be signed, that every signature is verified whether required or not, that each way a
signature can be wrong is refused with its typed error and writes nothing, and that both parties
read the same VERIFIED `verification`."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from casehub.config import Settings
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.enums import AgencyKind
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import new_nonce, statement_bytes
from tests.api.conftest import Api
from tests.conftest import Agency
from tests.request_support import three_agencies
from tests.signing_support import (
    ACCREDIT,
    EMERGENCY,
    REGISTER,
    REVOKE,
    SignedHub,
    accredited_key,
    signed_hub,
)


@pytest.fixture(scope="module")
async def hub(settings: Settings) -> AsyncIterator[SignedHub]:
    """The app under the default signing policy."""
    async with signed_hub(settings) as built:
        yield built


@pytest.fixture(autouse=True)
def _clock_reset(hub: SignedHub) -> None:
    hub.shift[0] = timedelta()


def _error(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["request"] is None, payload
    (error,) = payload["errors"]
    return dict(error)


async def _parties(hub: SignedHub) -> tuple[Agency, Agency, AgencyPrivateKey, AgencyPrivateKey]:
    """A police force and a platform, each with an accredited Ed25519 key."""
    police, platform, _outsider = await three_agencies(hub.world)
    (police_key, _), (platform_key, _) = await hub.key(police), await hub.key(platform)
    return police, platform, police_key, platform_key


async def test_to_a_provider_every_signable_step_must_be_signed(hub: SignedHub) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    steps: list[tuple[Agency, str, str, AgencyPrivateKey, dict[str, Any]]] = [
        (police, "submit", "SUBMIT", police_key, {}),
        (platform, "accept", "ACCEPT", platform_key, {}),
        (platform, "fulfil", "FULFIL", platform_key, {"text": "Data attached.", "outcome": "FULL"}),
    ]
    for agency, step, action, key, signed in steps:
        before = await hub.req.snapshot(agency.token, request_id)
        error = _error(await hub.req.step(agency.token, step, request_id))
        assert (error["code"], error["field"]) == ("VALIDATION", ["signature"])
        assert await hub.req.snapshot(agency.token, request_id) == before
        signature = await hub.sign(agency.token, key, agency, request_id, action, **signed)
        await hub.req.moved(agency.token, step, request_id, signature=signature)
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(step["action"], step["status"], step["required"]) for step in verification] == [
            ("SUBMIT", "VERIFIED", True),
            ("ACCEPT", "VERIFIED", True),
            ("FULFIL", "VERIFIED", True),
        ]
        signers = [step["signatures"] for step in verification]
        assert [[(s["role"], s["agency"]["id"], s["status"]) for s in x] for x in signers] == [
            [("SIGNER", police.id, "VERIFIED")],
            [("SIGNER", platform.id, "VERIFIED")],
            [("SIGNER", platform.id, "VERIFIED")],
        ]
        assert {s[0]["key"]["thumbprint"] for s in signers} == {
            police_key.public.thumbprint,
            platform_key.public.thumbprint,
        }


async def test_a_signed_decline_verifies_for_both_parties(hub: SignedHub) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    # The statement must state the reason the parties will read.
    wrong = await hub.sign(
        platform.token, platform_key, platform, request_id, "DECLINE", text="Another reason"
    )
    error = _error(await hub.req.step(platform.token, "decline", request_id, signature=wrong))
    assert error["code"] == "STATEMENT_MISMATCH"
    assert "textSha256" in error["message"]
    decline = await hub.sign(
        platform.token, platform_key, platform, request_id, "DECLINE", text="Not our data"
    )
    await hub.req.moved(platform.token, "decline", request_id, signature=decline)
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(step["action"], step["status"]) for step in verification] == [
            ("SUBMIT", "VERIFIED"),
            ("DECLINE", "VERIFIED"),
        ]


async def test_a_hybrid_key_signs_too(hub: SignedHub) -> None:
    police, platform, _outsider = await three_agencies(hub.world)
    key, _key_id = await hub.key(police, SigningAlgorithm.ED25519_ML_DSA_65)
    request_id = await hub.req.draft(police.token, platform.id)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    assert "." in signature["signature"]
    await hub.req.moved(police.token, "submit", request_id, signature=signature)
    verification = await hub.verification(platform.token, request_id)
    assert verification is not None
    assert [(step["action"], step["status"]) for step in verification] == [("SUBMIT", "VERIFIED")]


async def test_a_routine_request_between_police_forces_may_go_unsigned(hub: SignedHub) -> None:
    police = await hub.world.agency("POL", "MY")
    other = await hub.world.agency("POL", "SG")
    key, _key_id = await hub.key(police)
    unsigned = await hub.req.draft(police.token, other.id)
    await hub.req.moved(police.token, "submit", unsigned)
    await hub.req.moved(other.token, "accept", unsigned)
    verification = await hub.verification(other.token, unsigned)
    assert verification is not None
    assert [(s["action"], s["status"], s["required"], s["signatures"]) for s in verification] == [
        ("SUBMIT", "UNSIGNED", False, []),
        ("ACCEPT", "UNSIGNED", False, []),
    ]
    # A signature given where none is required is still checked, and kept when it verifies.
    signed = await hub.req.draft(police.token, other.id)
    raised = await hub.sign(
        police.token, key, police, signed, "SUBMIT", edit=lambda s: s.update(priority="URGENT")
    )
    error = _error(await hub.req.step(police.token, "submit", signed, signature=raised))
    assert error["code"] == "STATEMENT_MISMATCH"
    assert (await hub.req.snapshot(police.token, signed))["status"] == "DRAFT"
    good = await hub.sign(police.token, key, police, signed, "SUBMIT")
    await hub.req.moved(police.token, "submit", signed, signature=good)
    verification = await hub.verification(other.token, signed)
    assert verification is not None
    assert [(s["action"], s["status"], s["required"]) for s in verification] == [
        ("SUBMIT", "VERIFIED", False)
    ]


# --- Refusals: each a way a submission's signature is wrong, and the error it gets. ---

Case = Callable[[SignedHub, Agency, Agency, str], Awaitable[dict[str, str]]]


async def _own(hub: SignedHub, police: Agency, request_id: str, **given: Any) -> dict[str, str]:
    key, _key_id = await hub.key(police)
    return await hub.sign(police.token, key, police, request_id, "SUBMIT", **given)


async def _edited_after_signing(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    signature = await _own(hub, police, request_id)
    statement = json.loads(signature["statement"])
    statement["nonce"] = new_nonce()  # still canonical, no longer what was signed
    return {**signature, "statement": statement_bytes(statement).decode("utf-8")}


def _editing(member: str, value: object) -> Case:
    async def case(
        hub: SignedHub, police: Agency, _platform: Agency, request_id: str
    ) -> dict[str, str]:
        return await _own(hub, police, request_id, edit=lambda s: s.update({member: value}))

    return case


async def _another_agencys_key(
    hub: SignedHub, police: Agency, platform: Agency, request_id: str
) -> dict[str, str]:
    foreign, _key_id = await hub.key(platform)
    return await hub.sign(police.token, foreign, police, request_id, "SUBMIT")


async def _registered_only(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    body = await hub.gql(police.tokens["AGENCY_ADMIN"], REGISTER, {"i": {"publicKey": public}})
    assert body["data"]["registerAgencySigningKey"]["errors"] == []
    return await hub.sign(police.token, key, police, request_id, "SUBMIT")


async def _pending(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    body = await hub.gql(police.tokens["AGENCY_ADMIN"], REGISTER, {"i": {"publicKey": public}})
    key_id = body["data"]["registerAgencySigningKey"]["key"]["id"]
    period = {
        "id": key_id,
        "notBefore": (hub.now() + timedelta(hours=1)).isoformat(),
        "notAfter": (hub.now() + timedelta(days=2)).isoformat(),
    }
    body = await hub.gql(police.tokens["HUB_ADMIN"], ACCREDIT, {"i": period})
    assert body["data"]["accreditAgencySigningKey"]["key"]["state"] == "PENDING"
    return await hub.sign(police.token, key, police, request_id, "SUBMIT")


async def _expired(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key, _key_id = await accredited_key(
        hub.gql, police.tokens["AGENCY_ADMIN"], police.tokens["HUB_ADMIN"], days=1
    )
    hub.shift[0] = timedelta(days=2)
    return await hub.sign(police.token, key, police, request_id, "SUBMIT")


async def _revoked(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key, key_id = await hub.key(police)
    body = await hub.gql(
        police.tokens["AGENCY_ADMIN"], REVOKE, {"i": {"id": key_id, "reason": "x"}}
    )
    assert body["data"]["revokeAgencySigningKey"]["errors"] == []
    hub.shift[0] = timedelta(seconds=2)  # after the revocation's whole second
    return await hub.sign(police.token, key, police, request_id, "SUBMIT")


async def _signed_then_revoked(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    # Signed a minute before the revocation and given after it: good at its issuedAt, but the
    # key must still be good when the hub takes the step.
    key, key_id = await hub.key(police)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    hub.shift[0] = timedelta(minutes=1)
    body = await hub.gql(
        police.tokens["AGENCY_ADMIN"], REVOKE, {"i": {"id": key_id, "reason": "x"}}
    )
    assert body["data"]["revokeAgencySigningKey"]["errors"] == []
    hub.shift[0] = timedelta(minutes=2)
    return signature


async def _signed_then_expired(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    body = await hub.gql(police.tokens["AGENCY_ADMIN"], REGISTER, {"i": {"publicKey": public}})
    key_id = body["data"]["registerAgencySigningKey"]["key"]["id"]
    until = (hub.now() + timedelta(days=1)).replace(microsecond=0)
    body = await hub.gql(
        police.tokens["HUB_ADMIN"], ACCREDIT, {"i": {"id": key_id, "notAfter": until.isoformat()}}
    )
    assert body["data"]["accreditAgencySigningKey"]["errors"] == []
    # Signed a minute before the accreditation ends, given a minute after.
    hub.shift[0] = timedelta(days=1, minutes=-1)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    hub.shift[0] = timedelta(days=1, minutes=1)
    return signature


async def _stale(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key, _key_id = await hub.key(police)
    # Late enough that the key's accreditation covers the stale statement's time.
    hub.shift[0] = timedelta(minutes=10)
    stale = hub.now() - timedelta(minutes=6)
    return await hub.sign(police.token, key, police, request_id, "SUBMIT", issued_at=stale)


async def _from_the_future(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    return await _own(hub, police, request_id, issued_at=hub.now() + timedelta(minutes=6))


async def _not_canonical(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key, _key_id = await hub.key(police)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    text = json.dumps(json.loads(signature["statement"]), indent=1)
    return {**signature, "statement": text, "signature": key.sign(text.encode("utf-8"))}


async def _oversized(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    return {**await _own(hub, police, request_id), "signature": "A" * 6001}


async def _unknown_thumbprint(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    return {**await _own(hub, police, request_id), "keyThumbprint": "x" * 43}


async def _long_thumbprint(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    return {**await _own(hub, police, request_id), "keyThumbprint": "x" * 65}


async def _oversized_statement(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    # No key signs more than 8 KiB either: what was signed is given with a longer statement.
    signature = await _own(hub, police, request_id)
    statement = {**json.loads(signature["statement"]), "legalBasis": "x" * 9000}
    return {**signature, "statement": statement_bytes(statement).decode("utf-8")}


async def _other_own_thumbprint(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    other, _key_id = await hub.key(police)
    return {**await _own(hub, police, request_id), "keyThumbprint": other.public.thumbprint}


async def _another_principal(
    hub: SignedHub, police: Agency, _platform: Agency, request_id: str
) -> dict[str, str]:
    key, _key_id = await hub.key(police)
    # A statement made out for a colleague, given by the token's own principal.
    return await hub.sign(police.tokens["SUPERVISOR"], key, police, request_id, "SUBMIT")


REFUSALS: dict[str, tuple[Case, str, str | None]] = {
    "statement edited after signing": (_edited_after_signing, "SIGNATURE_INVALID", None),
    "particulars digest swapped": (
        _editing("particularsSha256", "0" * 64),
        "STATEMENT_MISMATCH",
        "particularsSha256",
    ),
    "body digest swapped": (_editing("bodySha256", "1" * 64), "STATEMENT_MISMATCH", "bodySha256"),
    "requested agency changed": (
        _editing("requested", "00000000-0000-4000-8000-000000000000"),
        "STATEMENT_MISMATCH",
        "requested",
    ),
    "priority raised": (_editing("priority", "EMERGENCY"), "STATEMENT_MISMATCH", "priority"),
    "action changed": (_editing("action", "ACCEPT"), "STATEMENT_MISMATCH", "action"),
    "another principal": (_another_principal, "STATEMENT_MISMATCH", "principal"),
    "another agency's accredited key": (_another_agencys_key, "KEY_NOT_ACCREDITED", None),
    "registered, not accredited": (_registered_only, "KEY_NOT_ACCREDITED", None),
    "accredited from later": (_pending, "KEY_NOT_ACCREDITED", None),
    "accreditation expired": (_expired, "KEY_NOT_ACCREDITED", None),
    "key revoked": (_revoked, "KEY_REVOKED", None),
    "key revoked after signing": (_signed_then_revoked, "KEY_REVOKED", None),
    "accreditation ended after signing": (_signed_then_expired, "KEY_NOT_ACCREDITED", None),
    "issuedAt too old": (_stale, "STATEMENT_MISMATCH", "issuedAt"),
    "issuedAt in the future": (_from_the_future, "STATEMENT_MISMATCH", "issuedAt"),
    "statement not canonical": (_not_canonical, "VALIDATION", None),
    "signature oversized": (_oversized, "VALIDATION", None),
    "unknown thumbprint": (_unknown_thumbprint, "KEY_NOT_ACCREDITED", None),
    "thumbprint oversized": (_long_thumbprint, "VALIDATION", None),
    "thumbprint of another own key": (_other_own_thumbprint, "SIGNATURE_INVALID", None),
    "statement over 8 KiB": (_oversized_statement, "VALIDATION", None),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_wrong_signature_is_refused_and_nothing_is_written(
    hub: SignedHub, refusal: tuple[Case, str, str | None]
) -> None:
    make, code, member = refusal
    police, platform, _outsider = await three_agencies(hub.world)
    request_id = await hub.req.draft(police.token, platform.id)
    before = await hub.req.snapshot(police.token, request_id)
    signature = await make(hub, police, platform, request_id)
    error = _error(await hub.req.step(police.token, "submit", request_id, signature=signature))
    assert error["code"] == code, error
    assert error["field"][0] == "signature"
    if member is not None:
        assert f"statement's {member} " in error["message"], error
    assert await hub.req.snapshot(police.token, request_id) == before
    assert await hub.verification(police.token, request_id) == []
    assert await hub.req.read(platform.token, request_id) is None


async def test_a_refused_signature_is_audited_with_its_code(hub: SignedHub) -> None:
    police, platform, _outsider = await three_agencies(hub.world)
    request_id = await hub.req.draft(police.token, platform.id)
    signature = await _edited_after_signing(hub, police, platform, request_id)
    error = _error(await hub.req.step(police.token, "submit", request_id, signature=signature))
    assert error["code"] == "SIGNATURE_INVALID"
    body = await hub.gql(
        police.tokens["AGENCY_ADMIN"],
        "{ auditEvents(first: 100) { edges { node { action outcome objectId } } } }",
    )
    assert "errors" not in body, body
    events = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    assert {"action": "REQUEST_SUBMIT", "outcome": "SIGNATURE_INVALID", "objectId": request_id} in (
        events
    )


async def test_a_nonce_counts_once_per_key(hub: SignedHub) -> None:
    police, platform, police_key, _platform_key = await _parties(hub)
    first = await hub.req.draft(police.token, platform.id)
    second = await hub.req.draft(police.token, platform.id)
    nonce = new_nonce()
    signature = await hub.sign(police.token, police_key, police, first, "SUBMIT", nonce=nonce)
    await hub.req.moved(police.token, "submit", first, signature=signature)
    before = await hub.req.snapshot(police.token, second)
    replayed = await hub.sign(police.token, police_key, police, second, "SUBMIT", nonce=nonce)
    error = _error(await hub.req.step(police.token, "submit", second, signature=replayed))
    assert (error["code"], error["field"]) == ("SIGNATURE_INVALID", ["signature", "statement"])
    assert await hub.req.snapshot(police.token, second) == before
    # The same statement given again for the request it was made for: refused as well.
    error = _error(await hub.req.step(police.token, "submit", first, signature=signature))
    assert error["code"] in ("CONFLICT", "INVALID_TRANSITION"), error


async def test_a_step_signed_before_the_revocation_still_verifies(hub: SignedHub) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    hub.shift[0] = timedelta(minutes=1)
    police_key_id = (await hub.verification(police.token, request_id) or [{}])[0]["signatures"][0][
        "key"
    ]["id"]
    body = await hub.gql(
        police.tokens["AGENCY_ADMIN"], REVOKE, {"i": {"id": police_key_id, "reason": "Retired"}}
    )
    assert body["data"]["revokeAgencySigningKey"]["errors"] == []
    accept = await hub.sign(platform.token, platform_key, platform, request_id, "ACCEPT")
    await hub.req.moved(platform.token, "accept", request_id, signature=accept)
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(step["action"], step["status"]) for step in verification] == [
            ("SUBMIT", "VERIFIED"),
            ("ACCEPT", "VERIFIED"),
        ]
        assert verification[0]["signatures"][0]["key"]["state"] == "REVOKED"


async def test_a_revocation_now_never_undoes_a_step_the_hub_took(hub: SignedHub) -> None:
    # The statement's issuedAt lies ahead of the hub's clock (within the skew) and the key is
    # revoked a moment after the step: the step stays VERIFIED, and the revocation's moment
    # lies past its issuedAt.
    police, platform, police_key, _platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    ahead = hub.now() + timedelta(minutes=4)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT", issued_at=ahead)
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    verification = await hub.verification(police.token, request_id)
    assert verification is not None
    key_id = verification[0]["signatures"][0]["key"]["id"]
    body = await hub.gql(
        police.tokens["AGENCY_ADMIN"], REVOKE, {"i": {"id": key_id, "reason": "Retired"}}
    )
    assert body["data"]["revokeAgencySigningKey"]["errors"] == [], body
    revocation = body["data"]["revokeAgencySigningKey"]["key"]["revocation"]
    assert datetime.fromisoformat(revocation["revokedAt"]) > ahead.replace(microsecond=0)
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(step["action"], step["status"]) for step in verification] == [
            ("SUBMIT", "VERIFIED")
        ]
    # And nothing new is taken with it, whatever the statement's issuedAt.
    accept_draft = await hub.req.draft(police.token, platform.id)
    late = await hub.sign(police.token, police_key, police, accept_draft, "SUBMIT")
    refused = await hub.req.step(police.token, "submit", accept_draft, signature=late)
    assert [error["code"] for error in refused["errors"]] == ["KEY_REVOKED"]


async def test_a_revocation_backdated_before_a_step_invalidates_it(hub: SignedHub) -> None:
    police, platform, police_key, _platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    hub.shift[0] = timedelta(minutes=2)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    verification = await hub.verification(police.token, request_id)
    assert verification is not None
    key_id = verification[0]["signatures"][0]["key"]["id"]
    compromised = (hub.now() - timedelta(minutes=1)).isoformat()
    body = await hub.gql(
        police.tokens["HUB_ADMIN"],
        REVOKE,
        {"i": {"id": key_id, "reason": "Stolen", "revokedAt": compromised}},
    )
    assert body["data"]["revokeAgencySigningKey"]["errors"] == [], body
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(s["action"], s["status"], s["reason"]) for s in verification] == [
            ("SUBMIT", "INVALID", "key revoked")
        ]


UNSIGNABLE = {
    "acknowledge": ("SUBMITTED", "requested"),
    "withdraw": ("SUBMITTED", "requester"),
    "close": ("DECLINED", "requester"),
}


@pytest.mark.parametrize("step", UNSIGNABLE, ids=UNSIGNABLE.keys())
async def test_a_step_that_is_not_signed_refuses_a_signature(hub: SignedHub, step: str) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    request_id = await hub.req.draft(police.token, platform.id)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    if UNSIGNABLE[step][0] == "DECLINED":
        decline = await hub.sign(
            platform.token, platform_key, platform, request_id, "DECLINE", text="Not our data"
        )
        await hub.req.moved(platform.token, "decline", request_id, signature=decline)
    agency, key = (
        (platform, platform_key) if UNSIGNABLE[step][1] == "requested" else (police, police_key)
    )
    before = await hub.req.snapshot(agency.token, request_id)
    signature = await hub.sign(agency.token, key, agency, request_id, "ACCEPT")
    error = _error(await hub.req.step(agency.token, step, request_id, signature=signature))
    assert (error["code"], error["field"]) == ("VALIDATION", ["signature"])
    assert await hub.req.snapshot(agency.token, request_id) == before
    # Without one it goes through.
    await hub.req.moved(agency.token, step, request_id)


async def test_an_emergency_request_between_police_forces_must_be_signed(hub: SignedHub) -> None:
    police = await hub.world.agency("POL", "MY")
    other = await hub.world.agency("POL", "SG", AgencyKind.LAW_ENFORCEMENT)
    request_id = await hub.req.draft(police.token, other.id, **EMERGENCY)
    error = _error(await hub.req.step(police.token, "submit", request_id))
    assert (error["code"], error["field"]) == ("VALIDATION", ["signature"])
    key, _key_id = await hub.key(police)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    # Not a service provider: no approval, it is sent at once.
    assert await hub.req.moved(police.token, "submit", request_id, signature=signature) == (
        "SUBMITTED"
    )


async def test_the_evidence_a_step_lists_is_checked_and_still_verifies_after_close(
    hub: SignedHub,
) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    api = Api(hub.world, hub.gql)
    case = await api.open_case(police.token)
    attached = [await _evidence(api, police.token, case["id"], f"chat {n}") for n in range(2)]
    request_id = await hub.req.draft(
        police.token, platform.id, caseId=case["id"], evidenceIds=[item["id"] for item in attached]
    )
    listed = [item["sha256"] for item in attached]
    for partial in ([], listed[:1]):
        short = await hub.sign(
            police.token, police_key, police, request_id, "SUBMIT", evidence_sha256=partial
        )
        error = _error(await hub.req.step(police.token, "submit", request_id, signature=short))
        assert error["code"] == "STATEMENT_MISMATCH"
        assert "evidenceSha256" in error["message"]
    # Listed in any order: the statement sorts them.
    signature = await hub.sign(
        police.token, police_key, police, request_id, "SUBMIT", evidence_sha256=listed[::-1]
    )
    await hub.req.moved(police.token, "submit", request_id, signature=signature)
    accept = await hub.sign(platform.token, platform_key, platform, request_id, "ACCEPT")
    await hub.req.moved(platform.token, "accept", request_id, signature=accept)
    own = await api.open_case(platform.token, title="Platform records")
    supplied = await _evidence(api, platform.token, own["id"], "subscriber record")
    fulfil: dict[str, Any] = {"text": "Data attached.", "outcome": "FULL"}
    unlisted = await hub.sign(
        platform.token, platform_key, platform, request_id, "FULFIL", **fulfil
    )
    error = _error(
        await hub.req.step(
            platform.token, "fulfil", request_id, signature=unlisted, evidenceIds=[supplied["id"]]
        )
    )
    assert error["code"] == "STATEMENT_MISMATCH"
    signature = await hub.sign(
        platform.token,
        platform_key,
        platform,
        request_id,
        "FULFIL",
        evidence_sha256=[supplied["sha256"]],
        **fulfil,
    )
    status = await hub.req.moved(
        platform.token, "fulfil", request_id, signature=signature, evidenceIds=[supplied["id"]]
    )
    assert status == "FULFILLED"
    # The attached copies are gone with the open request; the steps that listed them still
    # verify.
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        assert [(step["action"], step["status"]) for step in verification] == [
            ("SUBMIT", "VERIFIED"),
            ("ACCEPT", "VERIFIED"),
            ("FULFIL", "VERIFIED"),
        ]


async def _evidence(api: Api, token: str, case_id: str, title: str) -> dict[str, str]:
    added = await api.mutate(
        token,
        "addEvidence",
        {
            "caseId": case_id,
            "kind": "DOCUMENT",
            "title": title,
            "contentBase64": base64.b64encode(title.encode()).decode("ascii"),
            "mediaType": "text/plain",
        },
    )
    assert added["errors"] == [], added
    evidence: dict[str, str] = added["evidence"]
    return evidence


async def test_an_outsider_reads_nothing_and_both_parties_read_the_same(hub: SignedHub) -> None:
    police, platform, outsider = await three_agencies(hub.world)
    (police_key, _), (platform_key, _) = await hub.key(police), await hub.key(platform)
    request_id = await hub.req.draft(police.token, platform.id)
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    decline = await hub.sign(
        platform.token, platform_key, platform, request_id, "DECLINE", text="Not our data"
    )
    await hub.req.moved(platform.token, "decline", request_id, signature=decline)
    for role, token in outsider.tokens.items():
        if role != "HUB_ADMIN":  # which reads no request at all (FORBIDDEN)
            assert await hub.verification(token, request_id) is None
    by_police = await hub.verification(police.token, request_id)
    assert by_police is not None
    assert len(by_police) == 2
    # No event of a request sent at once is hidden from the requested agency.
    assert await hub.verification(platform.token, request_id) == by_police


async def test_a_step_signed_while_accredited_verifies_after_the_accreditation_ends(
    hub: SignedHub,
) -> None:
    police, platform, _outsider = await three_agencies(hub.world)
    key, key_id = await accredited_key(
        hub.gql, police.tokens["AGENCY_ADMIN"], police.tokens["HUB_ADMIN"], days=1
    )
    request_id = await hub.req.draft(police.token, platform.id)
    submit = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    hub.shift[0] = timedelta(days=2)
    for agency in (police, platform):
        verification = await hub.verification(agency.token, request_id)
        assert verification is not None
        (step,) = verification
        assert (step["status"], step["signatures"][0]["key"]["state"]) == ("VERIFIED", "EXPIRED")
        assert step["signatures"][0]["key"]["id"] == key_id


async def test_a_hybrid_signature_needs_both_halves(hub: SignedHub) -> None:
    police, platform, _outsider = await three_agencies(hub.world)
    key, _key_id = await hub.key(police, SigningAlgorithm.ED25519_ML_DSA_65)
    request_id = await hub.req.draft(police.token, platform.id)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    ed25519, _dot, mldsa = signature["signature"].partition(".")
    forged = "A" * len(mldsa)
    for halves in (f"{ed25519}.{forged}", ed25519, f"{'A' * len(ed25519)}.{mldsa}"):
        given = {**signature, "signature": halves}
        error = _error(await hub.req.step(police.token, "submit", request_id, signature=given))
        assert error["code"] == "SIGNATURE_INVALID", halves
    await hub.req.moved(police.token, "submit", request_id, signature=signature)


LISTED = """{ cooperationRequests(first: 100) { edges { node { id verification {
  eventNumber action status reason required
  signatures { role eventNumber statement signature status reason agency { id }
    key { id thumbprint state } } } } } } }"""


async def test_a_list_verifies_each_request_as_its_node_does(hub: SignedHub) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    requests = [await hub.req.draft(police.token, platform.id) for _ in range(3)]
    for number, request_id in enumerate(requests):
        submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
        await hub.req.moved(police.token, "submit", request_id, signature=submit)
        if number:
            accept = await hub.sign(platform.token, platform_key, platform, request_id, "ACCEPT")
            await hub.req.moved(platform.token, "accept", request_id, signature=accept)
    for agency in (police, platform):
        body = await hub.gql(agency.token, LISTED)
        assert "errors" not in body, body
        listed = {
            edge["node"]["id"]: edge["node"]["verification"]
            for edge in body["data"]["cooperationRequests"]["edges"]
        }
        assert set(listed) == set(requests)
        for request_id in requests:
            assert listed[request_id] == await hub.verification(agency.token, request_id)


async def test_particulars_are_signed_as_the_parties_read_them(hub: SignedHub) -> None:
    police, platform, police_key, platform_key = await _parties(hub)
    particulars = {
        "offence": "Cheating, s. 420 Penal Code",
        "dataToPreserve": "Subscriber records\nand IP logs",
        "followUpMla": True,
        "accountIdentifiers": [
            {"kind": "MESSENGER_HANDLE", "value": " @GoldProfits_VIP ", "platform": "Telegram"},
            {
                "kind": "CRYPTO_WALLET",
                "value": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                "chain": "tron",
            },
            {"kind": "EMAIL", "value": "Victim.Name@Mail.Test"},
            {"kind": "PHONE", "value": "+60 12-345 6789"},
        ],
        "contentLocations": ["https://t.me/goldprofits_vip/42", "https://example.test/é"],
    }
    request_id = await hub.req.draft(
        police.token,
        platform.id,
        kind="DATA_DISCLOSURE",
        legalBasis="Section 175A CMA",
        body="Café ☕ — unicode body\r\nwith a CRLF",
        particulars=particulars,
    )
    submit = await hub.sign(police.token, police_key, police, request_id, "SUBMIT")
    await hub.req.moved(police.token, "submit", request_id, signature=submit)
    # The platform reads the same particulars: its statement names the same digest.
    accept = await hub.sign(platform.token, platform_key, platform, request_id, "ACCEPT")
    assert (
        json.loads(accept["statement"])["particularsSha256"]
        == (json.loads(submit["statement"])["particularsSha256"])
    )
    await hub.req.moved(platform.token, "accept", request_id, signature=accept)
    verification = await hub.verification(platform.token, request_id)
    assert verification is not None
    assert [(step["action"], step["status"]) for step in verification] == [
        ("SUBMIT", "VERIFIED"),
        ("ACCEPT", "VERIFIED"),
    ]
