"""Sharing a case (DESIGN §3 CaseShare): METADATA shows clear fields only, FULL decrypts,
expiry and revocation apply on the next request, and TLP markings limit who may receive it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.api.conftest import AgencyHandle, Api


async def _populated_case(api: Api, **case_fields: Any) -> tuple[AgencyHandle, AgencyHandle, str]:
    """A populated case of a new agency A, and a second agency B (nothing shared yet)."""
    owner, recipient = await api.agency("A"), await api.agency("B")
    case = await api.open_case(owner.token, **case_fields)
    await api.populate(owner.token, case["id"])
    return owner, recipient, case["id"]


def _clear_fields(tree: dict[str, Any]) -> dict[str, Any]:
    """What every viewer of a case reads, whatever its access."""
    return {
        "reference": tree["reference"],
        "title": tree["title"],
        "category": tree["category"],
        "tlp": tree["tlp"],
        "owner": tree["owner"],
        "subjects": [
            {
                "id": subject["id"],
                "kind": subject["kind"],
                "identifiers": [
                    {key: ident[key] for key in ("id", "kind", "platform", "chain")}
                    for ident in subject["identifiers"]
                ],
            }
            for subject in tree["subjects"]
        ],
        "evidence": [
            {
                "id": item["id"],
                "title": item["title"],
                "sha256": item["sha256"],
                "custody": [(event["id"], event["action"]) for event in item["custody"]],
            }
            for item in tree["evidence"]
        ],
    }


def _protected_fields(tree: dict[str, Any]) -> list[Any]:
    """Every encrypted field of the case, in a fixed order."""
    subject = tree["subjects"][0]
    item = tree["evidence"][0]
    return [
        tree["summary"],
        subject["displayName"],
        *[ident["value"] for ident in subject["identifiers"]],
        item["description"],
        item["contentBase64"],
        *[event["note"] for event in item["custody"]],
    ]


def _plaintext(api: Api) -> list[Any]:
    """The encrypted fields `populate` wrote, in the order of `_protected_fields`."""
    sample = api.sample
    return [
        sample.summary,
        sample.display_name,
        sample.phone,
        sample.handle,
        sample.wallet,
        sample.evidence_description,
        sample.content_base64,
        None,  # the RECEIVED entry made by addEvidence has no note
        sample.custody_note,
    ]


def _object_ids(tree: dict[str, Any]) -> list[str]:
    """The case's id and the ids of everything in it."""
    return [
        tree["id"],
        *[subject["id"] for subject in tree["subjects"]],
        *[ident["id"] for subject in tree["subjects"] for ident in subject["identifiers"]],
        *[item["id"] for item in tree["evidence"]],
        *[event["id"] for item in tree["evidence"] for event in item["custody"]],
    ]


async def _read(api: Api, token: str, case_id: str) -> dict[str, Any]:
    tree = await api.read_case(token, case_id)
    assert tree is not None
    return tree


async def test_owner_reads_everything(api: Api) -> None:
    owner, _recipient, case_id = await _populated_case(api)
    tree = await _read(api, owner.token, case_id)
    assert tree["viewerAccess"] == "OWNER"
    assert _protected_fields(tree) == _plaintext(api)
    assert [ident["kind"] for ident in tree["subjects"][0]["identifiers"]] == [
        "PHONE",
        "MESSENGER_HANDLE",
        "CRYPTO_WALLET",
    ]


async def test_metadata_share_shows_clear_fields_and_nulls_encrypted_ones(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    await api.shared(owner.token, case_id, recipient.id, "METADATA")
    mine = await _read(api, owner.token, case_id)
    for token in (recipient.token, recipient.tokens["READER"]):
        theirs = await _read(api, token, case_id)
        assert theirs["viewerAccess"] == "METADATA"
        assert _clear_fields(theirs) == _clear_fields(mine)
        assert theirs["owner"]["id"] == owner.id
        assert _protected_fields(theirs) == [None] * len(_plaintext(api))
        assert [item["viewerAccess"] for item in theirs["evidence"]] == ["METADATA"]
        assert theirs["shares"] == []
    assert await api.case_ids(recipient.token) == [case_id]
    assert await api.case_ids(recipient.token, {"owned": False}) == [case_id]
    assert await api.case_ids(recipient.token, {"owned": True}) == []
    # The objects inside are reachable by id too, still without plaintext.
    identifier = mine["subjects"][0]["identifiers"][0]["id"]
    body = await api.gql(
        recipient.token,
        "query($id: ID!) { node(id: $id) { ... on Identifier { kind value } } }",
        {"id": identifier},
    )
    assert body["data"]["node"] == {"kind": "PHONE", "value": None}


async def test_metadata_recipient_is_forbidden_to_change_the_case(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    await api.shared(owner.token, case_id, recipient.id, "METADATA")
    before = await _read(api, owner.token, case_id)
    evidence_id = before["evidence"][0]["id"]
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("updateCase", {"id": case_id, "expectedVersion": before["version"], "title": "Mine"}),
        ("addSubject", {"caseId": case_id, "kind": "PERSON", "displayName": "Someone"}),
        ("addEvidence", {"caseId": case_id, "kind": "DOCUMENT", "title": "x", "sha256": "0" * 64}),
        ("recordCustodyEvent", {"evidenceId": evidence_id, "action": "ACCESSED"}),
        ("shareCase", {"caseId": case_id, "agencyId": owner.id, "scope": "FULL"}),
    ]
    for name, data in attempts:
        payload = await api.mutate(recipient.token, name, data)
        assert api.error_code(payload) == "FORBIDDEN", (name, payload)
    after = await _read(api, owner.token, case_id)
    assert after == before


async def test_full_share_decrypts_and_resharing_metadata_downgrades(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    full_id = await api.shared(owner.token, case_id, recipient.id, "FULL")
    for token in (recipient.token, recipient.tokens["READER"]):
        theirs = await _read(api, token, case_id)
        assert theirs["viewerAccess"] == "FULL"
        assert _protected_fields(theirs) == _plaintext(api)
        assert [item["viewerAccess"] for item in theirs["evidence"]] == ["FULL"]
        assert theirs["shares"] == []

    metadata_id = await api.shared(owner.token, case_id, recipient.id, "METADATA")
    theirs = await _read(api, recipient.token, case_id)
    assert theirs["viewerAccess"] == "METADATA"
    assert _protected_fields(theirs) == [None] * len(_plaintext(api))
    # The new share replaced the old one: one active share, listed to the owner only.
    shares = (await _read(api, owner.token, case_id))["shares"]
    assert sorted((share["id"], share["scope"], share["active"]) for share in shares) == sorted(
        [(full_id, "FULL", False), (metadata_id, "METADATA", True)]
    )

    # And upgrading again decrypts again.
    await api.shared(owner.token, case_id, recipient.id, "FULL")
    assert _protected_fields(await _read(api, recipient.token, case_id)) == _plaintext(api)


async def test_full_recipient_may_record_custody_but_not_change_the_case(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    await api.shared(owner.token, case_id, recipient.id, "FULL")
    before = await _read(api, owner.token, case_id)
    payload = await api.mutate(
        recipient.token,
        "updateCase",
        {"id": case_id, "expectedVersion": before["version"], "summary": "rewritten"},
    )
    assert api.error_code(payload) == "FORBIDDEN"
    payload = await api.mutate(
        recipient.token,
        "addSubject",
        {"caseId": case_id, "kind": "ACCOUNT", "displayName": "Someone"},
    )
    assert api.error_code(payload) == "FORBIDDEN"
    recorded = await api.mutate(
        recipient.token,
        "recordCustodyEvent",
        {"evidenceId": before["evidence"][0]["id"], "action": "COPIED", "note": "for our lab"},
    )
    assert recorded["errors"] == [], recorded
    custody = (await _read(api, owner.token, case_id))["evidence"][0]["custody"]
    assert [event["action"] for event in custody] == ["RECEIVED", "SEALED", "COPIED"]
    assert custody[-1]["note"] == "for our lab"


async def test_expiry_takes_effect_on_the_next_request(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    outsider = await api.agency("C")
    expires_at = api.in_seconds(2)
    share = await api.share(owner.token, case_id, recipient.id, "FULL", expires_at)
    assert share["errors"] == [], share
    assert share["share"]["active"] is True
    ids = _object_ids(await _read(api, owner.token, case_id))
    assert (await _read(api, recipient.token, case_id))["summary"] == api.sample.summary
    assert None not in await api.nodes(recipient.token, ids)
    assert await api.case_ids(recipient.token) == [case_id]
    assert await api.nodes(outsider.token, ids) == [None] * len(ids)

    remaining = (datetime.fromisoformat(expires_at) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(remaining, 0) + 0.1)

    assert await api.read_case(recipient.token, case_id) is None
    assert await api.nodes(recipient.token, ids) == [None] * len(ids)
    assert await api.case_ids(recipient.token) == []
    shares = (await _read(api, owner.token, case_id))["shares"]
    assert [share["active"] for share in shares] == [False]
    evidence_id = (await _read(api, owner.token, case_id))["evidence"][0]["id"]
    payload = await api.mutate(
        recipient.token, "recordCustodyEvent", {"evidenceId": evidence_id, "action": "ACCESSED"}
    )
    assert api.error_code(payload) == "NOT_FOUND"
    assert await api.nodes(outsider.token, ids) == [None] * len(ids)


async def test_revocation_takes_effect_on_the_next_request(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    outsider = await api.agency("C")
    share_id = await api.shared(owner.token, case_id, recipient.id, "FULL")
    ids = _object_ids(await _read(api, owner.token, case_id))
    assert (await _read(api, recipient.token, case_id))["summary"] == api.sample.summary
    assert None not in await api.nodes(recipient.token, ids)
    assert await api.nodes(outsider.token, ids) == [None] * len(ids)

    revoked = await api.mutate(owner.token, "revokeShare", {"shareId": share_id})
    assert revoked["errors"] == [], revoked
    assert revoked["share"]["active"] is False
    assert revoked["share"]["revokedAt"] is not None

    assert await api.read_case(recipient.token, case_id) is None
    assert await api.nodes(recipient.token, ids) == [None] * len(ids)
    assert await api.case_ids(recipient.token) == []
    payload = await api.mutate(
        recipient.token,
        "addSubject",
        {"caseId": case_id, "kind": "PERSON", "displayName": "Someone"},
    )
    assert api.error_code(payload) == "NOT_FOUND"
    again = await api.mutate(owner.token, "revokeShare", {"shareId": share_id})
    assert api.error_code(again) == "VALIDATION"
    assert await api.nodes(outsider.token, ids) == [None] * len(ids)
    assert await api.case_ids(outsider.token) == []


async def test_amber_strict_case_cannot_be_shared(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api, tlp="AMBER_STRICT")
    for scope in ("METADATA", "FULL"):
        payload = await api.share(owner.token, case_id, recipient.id, scope)
        assert api.error_code(payload) == "CLASSIFICATION_FORBIDS_SHARING", payload
    assert (await _read(api, owner.token, case_id))["shares"] == []
    assert await api.read_case(recipient.token, case_id) is None


async def test_red_case_is_shared_with_the_named_agency_only(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api, tlp="RED")
    outsider = await api.agency("C")
    await api.shared(owner.token, case_id, recipient.id, "FULL")
    theirs = await _read(api, recipient.token, case_id)
    assert (theirs["tlp"], theirs["viewerAccess"], theirs["summary"]) == (
        "RED",
        "FULL",
        api.sample.summary,
    )
    assert await api.read_case(outsider.token, case_id) is None
    assert await api.case_ids(outsider.token) == []


async def test_reclassifying_a_shared_case_amber_strict_is_refused(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    share_id = await api.shared(owner.token, case_id, recipient.id, "METADATA")
    before = await _read(api, owner.token, case_id)
    payload = await api.mutate(
        owner.token,
        "updateCase",
        {"id": case_id, "expectedVersion": before["version"], "tlp": "AMBER_STRICT"},
    )
    assert api.error_code(payload) == "CLASSIFICATION_FORBIDS_SHARING"
    assert payload["errors"][0]["field"] == ["tlp"]
    assert await _read(api, owner.token, case_id) == before
    # Once the share is revoked, the case may be marked AMBER_STRICT.
    await api.mutate(owner.token, "revokeShare", {"shareId": share_id})
    payload = await api.mutate(
        owner.token,
        "updateCase",
        {"id": case_id, "expectedVersion": before["version"], "tlp": "AMBER_STRICT"},
    )
    assert payload["errors"] == [], payload
    assert payload["case"]["tlp"] == "AMBER_STRICT"


async def test_share_with_own_agency_or_past_expiry_is_invalid(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    own = await api.share(owner.token, case_id, owner.id, "FULL")
    assert api.error_code(own) == "VALIDATION"
    assert own["errors"][0]["field"] == ["agencyId"]
    past = await api.share(owner.token, case_id, recipient.id, "FULL", api.in_seconds(-60))
    assert api.error_code(past) == "VALIDATION"
    assert past["errors"][0]["field"] == ["expiresAt"]
    assert (await _read(api, owner.token, case_id))["shares"] == []
    assert await api.read_case(recipient.token, case_id) is None


async def test_recipient_cannot_share_onwards_or_revoke(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    outsider = await api.agency("C")
    share_id = await api.shared(owner.token, case_id, recipient.id, "FULL")
    for target in (outsider.id, owner.id, recipient.id):
        payload = await api.share(recipient.token, case_id, target, "METADATA")
        assert api.error_code(payload) == "FORBIDDEN", payload
    # A share exists for its case's owner alone (the recipient cannot read it either): its id
    # is answered as a random one, never FORBIDDEN (issue 11: that told it the share exists).
    revoke = await api.mutate(recipient.token, "revokeShare", {"shareId": share_id})
    assert api.error_code(revoke) == "NOT_FOUND"
    assert revoke["errors"][0]["message"] == "No such share."
    assert await api.read_case(outsider.token, case_id) is None
    shares = (await _read(api, owner.token, case_id))["shares"]
    assert [(share["id"], share["active"]) for share in shares] == [(share_id, True)]


async def test_expiry_with_an_offset_is_stored_and_returned_in_utc(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    payload = await api.share(
        owner.token, case_id, recipient.id, "FULL", "2099-01-01T02:00:00+02:00"
    )
    assert payload["errors"] == [], payload
    listed = (await _read(api, owner.token, case_id))["shares"]
    body = await api.gql(
        owner.token,
        "query($id: ID!) { node(id: $id) { ... on CaseShare { expiresAt } } }",
        {"id": listed[0]["id"]},
    )
    # DESIGN §4: DateTime is ISO-8601 UTC, in the mutation's answer as in later reads.
    for value in (payload["share"]["expiresAt"], body["data"]["node"]["expiresAt"]):
        instant = datetime.fromisoformat(value)
        assert instant.utcoffset() == timedelta(0), value
        assert instant == datetime(2099, 1, 1, tzinfo=UTC), value


async def test_expiry_without_an_offset_is_utc_or_refused_never_a_crash(api: Api) -> None:
    owner, recipient, case_id = await _populated_case(api)
    body = await api.gql(
        owner.token,
        "mutation($input: ShareCaseInput!) { shareCase(input: $input) "
        "{ share { expiresAt } errors { code field } } }",
        {
            "input": {
                "caseId": case_id,
                "agencyId": recipient.id,
                "scope": "FULL",
                "expiresAt": "2099-01-01T00:00:00",
            }
        },
    )
    # Read as UTC, or refused as bad input (in the payload, or as a GraphQL input error):
    # never an unexpected failure.
    if "errors" in body:
        assert body["data"] is None, body
        assert [error["extensions"]["code"] for error in body["errors"]] != ["INTERNAL"], body
        return
    payload = body["data"]["shareCase"]
    if payload["errors"]:
        assert payload["errors"] == [{"code": "VALIDATION", "field": ["expiresAt"]}]
    else:
        expires = datetime.fromisoformat(payload["share"]["expiresAt"])
        assert expires == datetime(2099, 1, 1, tzinfo=UTC)


async def test_concurrent_share_and_amber_strict_marking_never_both_win(api: Api) -> None:
    owner, recipient = await api.agency("A"), await api.agency("B")
    for _round in range(3):
        case = await api.open_case(owner.token)
        marked, shared = await asyncio.gather(
            api.mutate(
                owner.token,
                "updateCase",
                {"id": case["id"], "expectedVersion": case["version"], "tlp": "AMBER_STRICT"},
            ),
            api.share(owner.token, case["id"], recipient.id, "FULL"),
        )
        outcomes = sorted(
            "OK" if not payload["errors"] else api.error_code(payload)
            for payload in (marked, shared)
        )
        # One wins; the other is refused by the TLP rule (or told to retry).
        assert outcomes in (["CLASSIFICATION_FORBIDS_SHARING", "OK"], ["CONFLICT", "OK"]), (
            marked,
            shared,
        )
        tree = await _read(api, owner.token, case["id"])
        active = [share for share in tree["shares"] if share["active"]]
        # The TLP rule holds whatever the interleaving: AMBER_STRICT is never shared.
        assert not (tree["tlp"] == "AMBER_STRICT" and active), tree
        seen = await api.read_case(recipient.token, case["id"])
        assert seen is None or seen["tlp"] != "AMBER_STRICT", seen


async def test_concurrent_shares_to_one_agency_leave_one_share_in_force(api: Api) -> None:
    owner, recipient = await api.agency("A"), await api.agency("B")
    for _round in range(3):
        case = await api.open_case(owner.token)
        payloads = await asyncio.gather(
            api.share(owner.token, case["id"], recipient.id, "FULL"),
            api.share(owner.token, case["id"], recipient.id, "METADATA"),
        )
        assert all(not p["errors"] or api.error_code(p) == "CONFLICT" for p in payloads), payloads
        shares = (await _read(api, owner.token, case["id"]))["shares"]
        active = [share for share in shares if share["active"]]
        # "A new share replaces that agency's active one": never two in force at once.
        assert len(active) == 1, shares
        theirs = await _read(api, recipient.token, case["id"])
        assert theirs["viewerAccess"] == active[0]["scope"]
        assert (theirs["summary"] is None) == (active[0]["scope"] == "METADATA")
