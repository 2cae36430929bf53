"""Crypto-shredding (DESIGN §5): shredCase destroys every wrap of a case's data key, so its
encrypted fields are gone for good while its clear fields remain; a legal hold refuses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest
from sqlalchemy import text

from casehub.api.ids import parse_global_id
from casehub.crypto import DataKey, DecryptionError, unwrap_data_key
from casehub.services.protected import FIELDS, LEGAL_HOLD_REASON, KeyScope
from casehub.services.runtime import Runtime
from tests.at_rest import Envelope, envelopes

if TYPE_CHECKING:
    from tests.api.conftest import AgencyHandle, Api

CASE_STATE = "id version title reference legalHold shreddedAt protectedFieldsReason summary"


async def _shred(api: Api, token: str, case_id: str) -> dict[str, Any]:
    body = await api.gql(
        token,
        "mutation($input: ShredCaseInput!) { shredCase(input: $input) "
        f"{{ case {{ {CASE_STATE} }} errors {{ code field message }} }} }}",
        {"input": {"id": case_id}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["shredCase"]
    return payload


async def _hold(
    api: Api, token: str, case_id: str, hold: bool, reason: str = "Court order 12/2026"
) -> dict[str, Any]:
    body = await api.gql(
        token,
        "mutation($input: SetLegalHoldInput!) { setLegalHold(input: $input) "
        f"{{ case {{ {CASE_STATE} }} errors {{ code field message }} }} }}",
        {"input": {"id": case_id, "hold": hold, "reason": reason}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["setLegalHold"]
    return payload


async def _state(api: Api, token: str, case_id: str) -> dict[str, Any] | None:
    body = await api.gql(
        token,
        f"query($id: ID!) {{ node(id: $id) {{ ... on Case {{ {CASE_STATE} viewerAccess }} }} }}",
        {"id": case_id},
    )
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["node"]
    return found


async def _populated(api: Api) -> tuple[AgencyHandle, AgencyHandle, str]:
    owner, other = await api.agency("A"), await api.agency("B")
    case = await api.open_case(owner.token)
    await api.populate(owner.token, case["id"])
    return owner, other, case["id"]


def _uuid(global_id: str) -> UUID:
    return parse_global_id(global_id)[1]


def _protected(tree: dict[str, Any]) -> list[Any]:
    return [
        tree["summary"],
        *[subject["displayName"] for subject in tree["subjects"]],
        *[i["value"] for subject in tree["subjects"] for i in subject["identifiers"]],
        *[item["description"] for item in tree["evidence"]],
        *[item["contentBase64"] for item in tree["evidence"]],
        *[event["note"] for item in tree["evidence"] for event in item["custody"]],
    ]


async def test_only_the_owners_agency_admin_may_shred_or_hold(api: Api) -> None:
    owner, other, case_id = await _populated(api)
    await api.shared(owner.token, case_id, other.id, "FULL")
    for token in (owner.tokens["INVESTIGATOR"], owner.tokens["READER"], other.token):
        expected = "FORBIDDEN"
        assert api.error_code(await _shred(api, token, case_id)) == expected
        assert api.error_code(await _hold(api, token, case_id, True)) == expected
    stranger = await api.agency("C")
    assert api.error_code(await _shred(api, stranger.token, case_id)) == "NOT_FOUND"
    assert api.error_code(await _hold(api, stranger.token, case_id, True)) == "NOT_FOUND"
    state = await _state(api, owner.token, case_id)
    assert state is not None
    assert state["shreddedAt"] is None
    assert state["legalHold"] is False
    assert state["summary"] == api.sample.summary
    assert state["protectedFieldsReason"] is None


async def test_legal_hold_blocks_shredding_until_released(api: Api) -> None:
    owner, _other, case_id = await _populated(api)
    admin = owner.tokens["AGENCY_ADMIN"]
    held = await _hold(api, admin, case_id, True)
    assert held["errors"] == []
    assert held["case"]["legalHold"] is True
    refused = await _shred(api, admin, case_id)
    assert api.error_code(refused) == "LEGAL_HOLD"
    assert "legal hold" in refused["errors"][0]["message"]
    state = await _state(api, owner.token, case_id)
    assert state is not None
    assert state["summary"] == api.sample.summary
    assert state["shreddedAt"] is None
    blank = await _hold(api, admin, case_id, False, reason=" ")
    assert api.error_code(blank) == "VALIDATION"
    assert blank["errors"][0]["field"] == ["reason"]
    released = await _hold(api, admin, case_id, False)
    assert released["errors"] == []
    assert released["case"]["legalHold"] is False
    shredded = await _shred(api, admin, case_id)
    assert shredded["errors"] == [], shredded
    assert shredded["case"]["shreddedAt"] is not None
    assert shredded["case"]["summary"] is None


async def test_after_shredding_clear_fields_remain_and_encrypted_ones_are_null(
    api: Api,
) -> None:
    owner, other, case_id = await _populated(api)
    await api.shared(owner.token, case_id, other.id, "FULL")
    before = await api.read_case(owner.token, case_id)
    assert before is not None
    assert _protected(before)[0] == api.sample.summary
    payload = await _shred(api, owner.tokens["AGENCY_ADMIN"], case_id)
    assert payload["errors"] == [], payload
    assert payload["case"]["protectedFieldsReason"] == "SHREDDED"

    after = await api.read_case(owner.token, case_id)  # read_case asserts no GraphQL errors
    assert after is not None
    assert all(value is None for value in _protected(after))
    for name in ("reference", "title", "category", "status", "tlp", "owner"):
        assert after[name] == before[name]
    assert [s["id"] for s in after["subjects"]] == [s["id"] for s in before["subjects"]]
    assert [e["sha256"] for e in after["evidence"]] == [e["sha256"] for e in before["evidence"]]
    assert all(not share["active"] for share in after["shares"])
    state = await _state(api, owner.token, case_id)
    assert state is not None
    assert state["shreddedAt"] is not None
    assert state["protectedFieldsReason"] == "SHREDDED"

    # The FULL recipient's share was revoked with the key: the case no longer exists for it.
    assert await api.read_case(other.token, case_id) is None
    # A METADATA share may still be given; its reader sees the clear fields and the reason.
    await api.shared(owner.token, case_id, other.id, "METADATA")
    theirs = await api.read_case(other.token, case_id)
    assert theirs is not None
    assert theirs["title"] == before["title"]
    assert all(value is None for value in _protected(theirs))
    state = await _state(api, other.token, case_id)
    assert state is not None
    assert state["protectedFieldsReason"] == "SHREDDED"

    again = await _shred(api, owner.tokens["AGENCY_ADMIN"], case_id)
    assert api.error_code(again) == "VALIDATION"
    assert "already shredded" in again["errors"][0]["message"]
    assert api.error_code(await _hold(api, owner.token, case_id, True)) == "VALIDATION"


async def test_metadata_viewer_is_told_why_fields_are_null(api: Api) -> None:
    owner, other, case_id = await _populated(api)
    await api.shared(owner.token, case_id, other.id, "METADATA")
    state = await _state(api, other.token, case_id)
    assert state is not None
    assert state["summary"] is None
    assert state["protectedFieldsReason"] == "METADATA_ONLY"


async def test_writes_that_need_the_key_are_refused_after_shredding(api: Api) -> None:
    owner, other, case_id = await _populated(api)
    tree = await api.read_case(owner.token, case_id)
    assert tree is not None
    assert (await _shred(api, owner.token, case_id))["errors"] == []
    state = await _state(api, owner.token, case_id)
    assert state is not None
    sample = api.sample
    refusals = {
        "addSubject": {"caseId": case_id, "kind": "PERSON", "displayName": sample.display_name},
        "addEvidence": {
            "caseId": case_id,
            "kind": "CHAT_LOG",
            "title": "More",
            "description": "x",
            "contentBase64": sample.content_base64,
        },
        "updateCase": {"id": case_id, "expectedVersion": state["version"], "summary": "new"},
        "recordCustodyEvent": {
            "evidenceId": tree["evidence"][0]["id"],
            "action": "SEALED",
            "note": "note",
        },
        "shareCase": {"caseId": case_id, "agencyId": other.id, "scope": "FULL"},
    }
    for name, data in refusals.items():
        payload = await api.mutate(owner.token, name, data)
        assert api.error_code(payload) == "VALIDATION", (name, payload)
        assert "shredded" in payload["errors"][0]["message"], (name, payload)
    # Clear-only changes still work: the case can be closed.
    closed = await api.mutate(
        owner.token,
        "updateCase",
        {"id": case_id, "expectedVersion": state["version"], "status": "CLOSED"},
    )
    assert closed["errors"] == []
    assert closed["case"]["summary"] is None


async def _raw(runtime: Runtime, statement: str, **params: Any) -> list[Any]:
    async with runtime.database.engine.connect() as connection:
        return list((await connection.execute(text(statement), params)).all())


def _uid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


async def _ciphertexts(runtime: Runtime, case: UUID, owner: UUID) -> list[Envelope]:
    """Every envelope sealed under the case's key, field by field of the registry."""
    return [
        envelope
        for field in FIELDS
        if field.key_scope is KeyScope.CASE
        for envelope in await envelopes(runtime, field, owner)
        if envelope.scope_id == case
    ]


async def _wraps_of(runtime: Runtime, scope_id: UUID) -> list[Any]:
    wraps = await _raw(
        runtime, "SELECT scope_id, generation, agency_id, kek_version FROM data_key_wrap"
    )
    return [wrap for wrap in wraps if _uid(wrap[0]) == scope_id]


async def test_keyring_and_raw_database_cannot_decrypt_a_shredded_case(
    api: Api, runtime: Runtime
) -> None:
    owner, other, case_id = await _populated(api)
    await api.shared(owner.token, case_id, other.id, "FULL")
    case = _uuid(case_id)
    assert {_uid(wrap[2]) for wrap in await _wraps_of(runtime, case)} == {
        _uuid(owner.id),
        _uuid(other.id),
    }
    sealed = await _ciphertexts(runtime, case, _uuid(owner.id))
    assert len(sealed) == 8  # summary, name, 3 values, description, content, 1 note

    assert (await _shred(api, owner.tokens["AGENCY_ADMIN"], case_id))["errors"] == []

    # No wrap of the case's key is left anywhere, for any agency.
    assert await _wraps_of(runtime, case) == []
    # The ciphertexts remain, byte for byte.
    assert await _ciphertexts(runtime, case, _uuid(owner.id)) == sealed

    # Every key the keyring and the database can still yield: each remaining wrap unwrapped
    # with its agency's KEK, and every agency's KEK at every root-key version itself.
    keys = runtime.keys
    agencies = [_uid(row[0]) for row in await _raw(runtime, "SELECT id FROM agency")]
    candidates: list[bytes] = [
        keys.agency_kek(agency, version) for agency in agencies for version in keys.versions
    ]
    for row in await _raw(
        runtime, "SELECT scope_id, generation, agency_id, kek_version, wrapped FROM data_key_wrap"
    ):
        unwrapped = unwrap_data_key(
            keys,
            scope_id=_uid(row[0]),
            generation=row[1],
            agency_id=_uid(row[2]),
            version=row[3],
            blob=bytes(row[4]),
        )
        candidates.append(unwrapped.secret)
    assert candidates
    for envelope in sealed:
        for secret in candidates:
            # Bound to the shredded case's scope, so only the cipher itself can refuse.
            with pytest.raises(DecryptionError):
                envelope.open(DataKey.of(case, 1, secret))


async def test_a_legal_hold_reason_is_sealed_not_logged(api: Api, runtime: Runtime) -> None:
    """A hold's reason is free text that can name people: the audit log holds it sealed under
    the case's data key (only its owner's wrap opens it), never in clear; shredding the case
    erases it with the rest."""
    import base64
    import json

    from casehub.services.keys import data_keys as keys
    from casehub.services.runtime import open_scope

    owner, _other, case_id = await _populated(api)
    admin = owner.tokens["AGENCY_ADMIN"]
    reason = f"Court order 77/2026 naming Jane Roe ({case_id[-8:]})"
    assert (await _hold(api, admin, case_id, True, reason=reason))["errors"] == []
    assert (await _hold(api, admin, case_id, False, reason=reason + " lifted"))["errors"] == []

    async with open_scope(runtime) as scope:
        chain = await scope.store.audit_log()
    assert all("Jane Roe" not in event.details for event in chain)
    holds = [
        json.loads(event.details)
        for event in chain
        if event.action == "case.legal_hold" and event.object_id == _uuid(case_id)
    ]
    assert [details["hold"] for details in holds] == [True, False]
    assert all("reason" not in details for details in holds)

    case_uuid, owner_uuid = _uuid(case_id), _uuid(owner.id)

    async def opened() -> list[str]:
        async with open_scope(runtime) as scope:
            key = (await keys.agency_keys(scope, [case_uuid], owner_uuid))[case_uuid]
        assert key is not None
        return [
            LEGAL_HOLD_REASON.open(
                key, case_uuid, owner_uuid, base64.b64decode(d["reasonSealed"])
            ).decode()
            for d in holds
        ]

    assert await opened() == [reason, reason + " lifted"]
    assert (await _shred(api, admin, case_id))["errors"] == []
    with pytest.raises(AssertionError):
        await opened()  # no wrap of the case's key is left to open it
