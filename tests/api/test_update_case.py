"""updateCase: optimistic concurrency on `version`, re-encryption of the summary, and exactly
one winner among concurrent writers of the same version."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.api.conftest import Api

CASE = """
query($id: ID!) {
  node(id: $id) {
    ... on Case { version title summary category status tlp handlingCode updatedAt }
  }
}
"""


async def _case(api: Api, token: str, case_id: str) -> dict[str, Any]:
    body = await api.gql(token, CASE, {"id": case_id})
    assert "errors" not in body, body
    case: dict[str, Any] = body["data"]["node"]
    assert case is not None
    return case


async def _update(
    api: Api, token: str, case_id: str, version: int, **fields: Any
) -> dict[str, Any]:
    return await api.mutate(
        token, "updateCase", {"id": case_id, "expectedVersion": version, **fields}
    )


async def test_update_with_current_version_changes_fields_and_bumps_version(api: Api) -> None:
    owner, recipient = await api.agency(), await api.agency()
    opened = await api.open_case(owner.token)
    await api.shared(owner.token, opened["id"], recipient.id, "FULL")
    before = await _case(api, owner.token, opened["id"])
    assert before["version"] == 1

    changes = {
        "title": "Operation Gold Channel II",
        "summary": "Second wave: the channel moved to a new wallet",
        "category": "MONEY_LAUNDERING",
        "status": "ACTIVE",
        "tlp": "RED",
        "handlingCode": "H2",
    }
    payload = await _update(api, owner.tokens["INVESTIGATOR"], opened["id"], 1, **changes)
    assert payload["errors"] == [], payload
    assert payload["case"] == {"id": opened["id"], "version": 2, **changes}

    after = await _case(api, owner.token, opened["id"])
    assert {key: after[key] for key in changes} == changes
    assert after["version"] == 2
    assert after["updatedAt"] >= before["updatedAt"]
    # The new summary is encrypted under the case's key: a FULL recipient decrypts it too.
    assert (await _case(api, recipient.token, opened["id"]))["summary"] == changes["summary"]

    # One field at a time keeps the others as they are.
    payload = await _update(api, owner.token, opened["id"], 2, summary="Third wave")
    assert payload["errors"] == [], payload
    latest = await _case(api, owner.token, opened["id"])
    assert {**latest, "updatedAt": None} == {
        **after,
        "version": 3,
        "summary": "Third wave",
        "updatedAt": None,
    }


async def test_stale_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    owner = await api.agency()
    opened = await api.open_case(owner.token)
    first = await _update(api, owner.token, opened["id"], 1, title="First")
    assert first["errors"] == [], first
    before = await _case(api, owner.token, opened["id"])

    for stale in (1, 0, 3, -1):
        payload = await _update(
            api, owner.token, opened["id"], stale, title="Second", summary="Overwritten"
        )
        assert api.error_code(payload) == "CONFLICT", (stale, payload)
        assert payload["errors"][0]["field"] == ["expectedVersion"]
    assert await _case(api, owner.token, opened["id"]) == before
    assert before["title"] == "First"
    assert before["summary"] == api.sample.summary


async def test_update_without_fields_is_invalid(api: Api) -> None:
    owner = await api.agency()
    opened = await api.open_case(owner.token)
    before = await _case(api, owner.token, opened["id"])
    for data in ({}, {"title": None, "summary": None, "tlp": None}):
        payload = await _update(api, owner.token, opened["id"], 1, **data)
        assert api.error_code(payload) == "VALIDATION", payload
    assert await _case(api, owner.token, opened["id"]) == before


async def test_invalid_field_is_refused_and_changes_nothing(api: Api) -> None:
    owner = await api.agency()
    opened = await api.open_case(owner.token)
    before = await _case(api, owner.token, opened["id"])
    payload = await _update(api, owner.token, opened["id"], 1, title="x" * 201, status="CLOSED")
    assert api.error_code(payload) == "VALIDATION"
    assert payload["errors"][0]["field"] == ["title"]
    assert await _case(api, owner.token, opened["id"]) == before


async def test_concurrent_updates_of_one_version_have_exactly_one_winner(api: Api) -> None:
    owner = await api.agency()
    opened = await api.open_case(owner.token)
    version = 1
    for writers in (2, 2, 4):
        titles = [f"Writer {index} of v{version}" for index in range(writers)]
        payloads = await asyncio.gather(
            *(
                _update(api, owner.token, opened["id"], version, title=title, summary=title)
                for title in titles
            )
        )
        winners = [payload for payload in payloads if not payload["errors"]]
        losers = [payload for payload in payloads if payload["errors"]]
        assert len(winners) == 1, payloads
        assert [api.error_code(payload) for payload in losers] == ["CONFLICT"] * (writers - 1)
        assert all(payload["errors"][0]["field"] == ["expectedVersion"] for payload in losers)
        won = winners[0]["case"]
        assert won["version"] == version + 1
        current = await _case(api, owner.token, opened["id"])
        # The stored case is the winner's, whole: no mix of two writers' fields.
        assert (current["version"], current["title"], current["summary"]) == (
            version + 1,
            won["title"],
            won["title"],
        )
        version += 1
