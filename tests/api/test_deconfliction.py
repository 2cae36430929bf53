"""Deconfliction over HTTP (DESIGN §3): the hitCheck mutation tells which agencies hold an
identifier and nothing else, tells the holders who asked, is limited and audited (as the
deprecated hitCheck query still does); `cases(filter: {identifier})` searches one's readable
cases through blind indexes; shredding removes the digests."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import pytest
from graphql import graphql_sync
from sqlalchemy import text

from casehub.api.ids import parse_global_id
from casehub.api.schema import build_schema
from casehub.app import create_app
from casehub.config import Settings
from casehub.services.cases import identifier_index
from casehub.services.runtime import Runtime
from tests.api.test_request_inbox import app, socket  # noqa: F401  (the `app` fixture)
from tests.conftest import GraphQL
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.api.conftest import Api

CHECKED = """hitCheck(identifiers: $ids) {
  results { kind hits { caseCount agency { code name jurisdiction } } }
  errors { code field message retryAfter } }"""
HIT_CHECK = f"mutation($ids: [IdentifierInput!]!) {{ {CHECKED} }}"
# Deprecated: the same check as a query, kept one release for the clients that send it.
HIT_CHECK_QUERY = f"query($ids: [IdentifierInput!]!) {{ {CHECKED} }}"
NOTICES = """{ hitNotices(first: 10) { edges { node {
  seq identifierKind askingAgency { code } cases { id title } } } } }"""
SEARCH = """query($identifier: IdentifierInput!) { cases(filter: {identifier: $identifier}) {
  totalCount edges { node { id } } } }"""
MARK = """mutation($input: SetSubjectMatchableInput!) { setSubjectMatchable(input: $input) {
  subject { id matchable } errors { code field message } } }"""
HELD = "+60 12-000 0001"  # held by the refusal tests' agencies, never found: they are refused


@pytest.fixture
def number() -> tuple[str, str]:
    """A fresh Malaysian mobile number (the database outlives a test): national and
    international notation, as `012-345 6789` and `+60 12-345 6789`."""
    digits = f"{secrets.randbelow(10**7):07d}"
    return f"012-{digits[:3]} {digits[3:]}", f"+60 12-{digits[:3]} {digits[3:]}"


def fresh(name: str) -> str:
    """A handle no other test uses."""
    return f"{name}_{secrets.token_hex(4)}"


def phone(value: str) -> dict[str, Any]:
    return {"kind": "PHONE", "value": value}


def handle(value: str) -> dict[str, Any]:
    return {"kind": "MESSENGER_HANDLE", "value": value, "platform": "telegram"}


async def subject(
    api: Api, token: str, case_id: str, *identifiers: dict[str, Any], name: str = "Lim Wei"
) -> str:
    payload = await api.mutate(
        token,
        "addSubject",
        {"caseId": case_id, "kind": "PERSON", "displayName": name, "identifiers": identifiers},
    )
    assert payload["errors"] == [], payload
    subject_id: str = payload["subject"]["id"]
    return subject_id


async def check(
    gql: GraphQL, token: str, *identifiers: dict[str, Any], document: str = HIT_CHECK
) -> dict[str, Any]:
    body = await gql(token, document, {"ids": list(identifiers)})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["hitCheck"]
    return payload


async def notices(gql: GraphQL, token: str) -> list[dict[str, Any]]:
    body = await gql(token, NOTICES)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["hitNotices"]["edges"]]


async def search(gql: GraphQL, token: str, identifier: dict[str, Any]) -> tuple[set[str], int]:
    body = await gql(token, SEARCH, {"identifier": identifier})
    assert "errors" not in body, body
    found = body["data"]["cases"]
    return {edge["node"]["id"] for edge in found["edges"]}, found["totalCount"]


async def sql(runtime: Runtime, statement: str, **params: Any) -> list[Any]:
    async with runtime.database.engine.begin() as connection:
        result = await connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def uuid_of(global_id: str) -> UUID:
    return parse_global_id(global_id)[1]


def stored(runtime: Runtime, global_id: str) -> UUID | str:
    """An id as a raw SQL parameter: a uuid on PostgreSQL, 32 hex digits on SQLite."""
    uuid = uuid_of(global_id)
    return uuid if runtime.database.dialect == "postgresql" else uuid.hex


async def test_a_hit_names_the_holding_agency_and_its_case_count_and_nothing_else(api, gql, number):
    holder, asker = await api.agency("MYP"), await api.world.agency("FRP", jurisdiction="FR")
    first = await api.open_case(holder.token, title="Operation Silent Harbour")
    second = await api.open_case(holder.token, title="Operation Quiet Dawn")
    await subject(api, holder.token, first["id"], phone(number[0]), name="Chong Mei Ling")
    await subject(api, holder.token, second["id"], phone(number[1].replace(" ", "")))

    payload = await check(gql, asker.token, phone(number[1]), handle(fresh("@nobody")))

    assert payload["errors"] == []
    assert payload["results"] == [
        {
            "kind": "PHONE",
            "hits": [
                {
                    "caseCount": 2,
                    "agency": {
                        "code": holder.code,
                        "name": f"Agency {holder.code}",
                        "jurisdiction": "MY",
                    },
                }
            ],
        },
        {"kind": "MESSENGER_HANDLE", "hits": []},
    ]
    raw = json.dumps(payload)
    for secret in (
        first["id"],
        second["id"],
        str(uuid_of(first["id"])),
        "Operation Silent Harbour",
        "Operation Quiet Dawn",
        "Chong Mei Ling",
        "0123456789",
        "+60123456789",
    ):
        assert secret not in raw


async def test_the_holder_receives_a_notice_naming_the_asker_and_the_kind_only(api, gql, number):
    holder, asker = await api.agency("MYP"), await api.world.agency("FRP", jurisdiction="FR")
    bystander = await api.agency("MYC")
    case = await api.open_case(holder.token, title="Operation Silent Harbour")
    await subject(api, holder.token, case["id"], phone(number[0]))

    await check(gql, asker.token, phone(number[1]))

    [notice] = await notices(gql, holder.token)
    assert notice["identifierKind"] == "PHONE"
    assert notice["askingAgency"] == {"code": asker.code}
    assert notice["cases"] == [{"id": case["id"], "title": "Operation Silent Harbour"}]
    assert await notices(gql, asker.token) == []
    assert await notices(gql, bystander.token) == []


async def test_a_malaysian_national_number_matches_its_international_form(api, gql, number):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[1]))

    payload = await check(gql, asker.token, phone(number[0]))

    assert [hit["agency"]["code"] for hit in payload["results"][0]["hits"]] == [holder.code]


async def test_an_agencys_own_subjects_are_no_hit_and_send_no_notice(api, gql, number):
    holder = await api.agency("MYP")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[0]))

    payload = await check(gql, holder.token, phone(number[1]))

    assert payload["results"][0]["hits"] == []
    assert await notices(gql, holder.token) == []


async def test_subjects_of_red_cases_match_only_when_their_owner_opts_in(api, gql):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    red = await api.open_case(holder.token, tlp="RED")
    amber = await api.open_case(holder.token)
    red_name, amber_name = fresh("red_channel"), fresh("amber_channel")
    red_subject = await subject(api, holder.token, red["id"], handle("@" + red_name))
    amber_subject = await subject(api, holder.token, amber["id"], handle(amber_name))

    async def hits(value: str) -> int:
        payload = await check(gql, asker.token, handle(value))
        return sum(hit["caseCount"] for hit in payload["results"][0]["hits"])

    assert (await hits(red_name), await hits(amber_name)) == (0, 1)

    for subject_id, mark in ((red_subject, True), (amber_subject, False)):
        body = await gql(
            holder.token, MARK, {"input": {"subjectId": subject_id, "matchable": mark}}
        )
        payload = body["data"]["setSubjectMatchable"]
        assert payload == {"subject": {"id": subject_id, "matchable": mark}, "errors": []}

    assert (await hits(red_name), await hits(amber_name)) == (1, 0)


async def test_a_subject_added_as_matchable_in_a_red_case_matches_at_once(api, gql):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    red = await api.open_case(holder.token, tlp="RED")
    name = fresh("Opted_In")
    payload = await api.mutate(
        holder.token,
        "addSubject",
        {
            "caseId": red["id"],
            "kind": "ORGANIZATION",
            "displayName": "Channel admin",
            "identifiers": [handle(name)],
            "matchable": True,
        },
    )
    assert payload["errors"] == []

    found = await check(gql, asker.token, handle("@" + name.lower()))

    assert found["results"][0]["hits"][0]["caseCount"] == 1


async def test_only_the_owners_investigators_may_mark_a_subject(api, gql, runtime):
    holder, other = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    subject_id = await subject(api, holder.token, case["id"], handle("someone"))
    await api.shared(holder.token, case["id"], other.id, "FULL")
    attempts = [
        (other.token, subject_id, "FORBIDDEN"),  # FULL share: may read, not change
        (holder.tokens["READER"], subject_id, "FORBIDDEN"),
        (holder.token, case["id"], "VALIDATION"),  # a case id where a subject is due
    ]
    for token, target, code in attempts:
        async with nothing_written(runtime):
            body = await gql(token, MARK, {"input": {"subjectId": target, "matchable": True}})
        payload = body["data"]["setSubjectMatchable"]
        assert payload["subject"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["subjectId"])]


@pytest.mark.parametrize(
    ("role", "identifiers", "code", "field"),
    [
        ("READER", [phone(HELD)], "FORBIDDEN", None),
        ("AGENCY_ADMIN", [phone(HELD)], "FORBIDDEN", None),
        ("LIAISON_OFFICER", [], "VALIDATION", ["identifiers"]),
        (
            "INVESTIGATOR",
            [phone(HELD), phone("12")],
            "VALIDATION",
            ["identifiers", "1", "value"],
        ),
        (
            "INVESTIGATOR",
            [{"kind": "MESSENGER_HANDLE", "value": "x"}],
            "VALIDATION",
            ["identifiers", "0", "platform"],
        ),
        (
            "INVESTIGATOR",
            [{"kind": "CRYPTO_WALLET", "value": "0x12", "chain": "ethereum"}],
            "VALIDATION",
            ["identifiers", "0", "value"],
        ),
    ],
)
async def test_a_refused_check_writes_nothing_and_notifies_nobody(
    api, gql, runtime, role, identifiers, code, field
):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(HELD))

    async with nothing_written(runtime):
        payload = await check(gql, asker.tokens[role], *identifiers)

    assert payload["results"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await notices(gql, holder.token) == []
    [(outcome,)] = await sql(
        runtime,
        "SELECT outcome FROM audit_event WHERE action = 'hit.check' ORDER BY seq DESC LIMIT 1",
    )
    assert outcome == code


@pytest.fixture
async def limited(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[tuple[GraphQL, list[datetime]]]:
    """An app allowing 3 identifiers a minute, with a clock the test moves."""
    now = [datetime.now(UTC)]
    tight = dataclasses.replace(
        runtime,
        settings=settings.model_copy(update={"hit_check_per_minute": 3}),
        clock=lambda: now[0],
    )
    transport = httpx.ASGITransport(app=create_app(tight.settings, runtime=tight))
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield GraphQL(http), now


async def test_the_allowance_refuses_in_the_payload_until_the_window_passes(
    api, gql, runtime, limited
):
    limited_gql, now = limited
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    held = fresh("held")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], handle(held))
    assert (await check(limited_gql, asker.token, handle("a"), handle("b")))["errors"] == []

    async with nothing_written(runtime):
        refused = await check(limited_gql, asker.token, handle(held), handle("d"))

    assert refused["results"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"], error["retryAfter"]) == ("RATE_LIMITED", None, 60)
    assert "retry in 60 s" in error["message"]
    assert await notices(gql, holder.token) == []
    # The refused check spent nothing: one identifier still fits, and notifies once.
    found = await check(limited_gql, asker.token, handle(held))
    assert (found["errors"], len(found["results"][0]["hits"])) == ([], 1)
    assert len(await notices(gql, holder.token)) == 1
    too_many = await check(limited_gql, asker.token, handle("e"))
    assert [error["code"] for error in too_many["errors"]] == ["RATE_LIMITED"]

    now[0] += timedelta(seconds=61)
    assert (await check(limited_gql, asker.token, handle("d"), handle("e")))["errors"] == []
    outcomes = await sql(
        runtime,
        "SELECT outcome FROM audit_event WHERE action = 'hit.check' AND actor_agency_id = :a "
        "ORDER BY seq",
        a=stored(runtime, asker.id),
    )
    assert [row[0] for row in outcomes] == ["OK", "RATE_LIMITED", "OK", "RATE_LIMITED", "OK"]


async def test_the_deprecated_query_keeps_its_top_level_rate_limit(api, runtime, limited):
    gql, _now = limited
    asker = await api.agency("MYC")
    assert (await check(gql, asker.token, handle("a"), handle("b")))["errors"] == []

    async with nothing_written(runtime):
        body = await gql(asker.token, HIT_CHECK_QUERY, {"ids": [handle("c"), handle("d")]})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 60}
    assert "retry in 60 s" in error["message"]
    assert (await check(gql, asker.token, handle("c"), document=HIT_CHECK_QUERY))["errors"] == []


async def test_the_deprecated_query_answers_as_the_mutation_and_notifies_too(api, gql, number):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[0]))

    asked = await check(gql, asker.token, phone(number[1]), document=HIT_CHECK_QUERY)
    changed = await check(gql, asker.token, phone(number[1]))

    assert asked == changed
    assert [hit["agency"]["code"] for hit in changed["results"][0]["hits"]] == [holder.code]
    assert len(await notices(gql, holder.token)) == 2


async def test_each_call_of_the_mutation_is_a_new_check(api, gql, runtime, number):
    """The point of a mutation: a client sends it on purpose, and each one notifies and is
    audited (a cache refetching a query would have notified the holders behind the user's back)."""
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[0]))

    first = await check(gql, asker.token, phone(number[1]))
    again = await check(gql, asker.token, phone(number[1]))

    assert first == again
    assert [notice["askingAgency"] for notice in await notices(gql, holder.token)] == [
        {"code": asker.code}
    ] * 2
    [(count,)] = await sql(
        runtime,
        "SELECT count(*) FROM audit_event WHERE action = 'hit.check' AND actor_agency_id = :a",
        a=stored(runtime, asker.id),
    )
    assert count == 2


def test_introspection_marks_the_query_deprecated_and_names_the_mutation() -> None:
    schema = build_schema(development=True)._schema
    found = graphql_sync(
        schema,
        """{ query: __type(name: "Query") { fields(includeDeprecated: true) {
          name isDeprecated deprecationReason } }
          mutation: __type(name: "Mutation") { fields { name isDeprecated } } }""",
    )
    assert found.errors is None, found.errors
    assert found.data is not None
    [query] = [f for f in found.data["query"]["fields"] if f["name"] == "hitCheck"]
    [mutation] = [f for f in found.data["mutation"]["fields"] if f["name"] == "hitCheck"]
    assert query["isDeprecated"] is True
    assert query["deprecationReason"].startswith("Use Mutation.hitCheck")
    assert mutation["isDeprecated"] is False


async def test_the_same_value_has_per_agency_blind_indexes_and_one_match_token(
    api, runtime, number
):
    mine, theirs = await api.agency("MYP"), await api.world.agency("FRP", jurisdiction="FR")
    for agency, value in ((mine, number[0]), (theirs, number[1])):
        case = await api.open_case(agency.token)
        await subject(api, agency.token, case["id"], phone(value))

    statement = "SELECT blind_index, match_token FROM identifier_index WHERE agency_id = :a"
    [(blind_a, token_a)] = await sql(runtime, statement, a=stored(runtime, mine.id))
    [(blind_b, token_b)] = await sql(runtime, statement, a=stored(runtime, theirs.id))
    assert blind_a != blind_b
    assert token_a == token_b
    assert len(blind_a) == len(token_a) == 32


async def test_search_finds_own_and_full_shared_cases_only(api, gql, number):
    me, partner, stranger = await api.agency("MYP"), await api.agency("MYC"), await api.agency("X")
    own = await api.open_case(me.token)
    await subject(api, me.token, own["id"], phone(number[0]))
    unrelated = await api.open_case(me.token)
    await subject(api, me.token, unrelated["id"], phone("+60198765432"))
    full = await api.open_case(partner.token)
    await subject(api, partner.token, full["id"], phone(number[1]))
    await api.shared(partner.token, full["id"], me.id, "FULL")
    metadata = await api.open_case(partner.token)
    await subject(api, partner.token, metadata["id"], phone(number[1]))
    await api.shared(partner.token, metadata["id"], me.id, "METADATA")

    assert await search(gql, me.token, phone(number[1])) == ({own["id"], full["id"]}, 2)
    assert await search(gql, stranger.token, phone(number[1])) == (set(), 0)
    assert await search(gql, me.token, phone("+60 11-2345 0000")) == (set(), 0)


async def test_search_drops_false_positives_after_decrypting_the_candidates(
    api, gql, runtime, number
):
    me = await api.agency("MYP")
    right = await api.open_case(me.token)
    await subject(api, me.token, right["id"], phone(number[0]))
    wrong = await api.open_case(me.token)
    await subject(api, me.token, wrong["id"], phone("+60198765432"))
    # Give the other identifier the same digest, as a collision would.
    [(digest,)] = await sql(
        runtime,
        "SELECT blind_index FROM identifier_index WHERE case_id = :c",
        c=stored(runtime, right["id"]),
    )
    await sql(
        runtime,
        "UPDATE identifier_index SET blind_index = :d WHERE case_id = :c",
        d=bytes(digest),
        c=stored(runtime, wrong["id"]),
    )

    assert await search(gql, me.token, phone(number[1])) == ({right["id"]}, 1)


async def test_an_invalid_search_identifier_is_a_validation_error(api, gql):
    me = await api.agency("MYP")
    body = await gql(me.token, SEARCH, {"identifier": phone("twelve")})
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "VALIDATION",
        "field": ["filter", "identifier", "value"],
    }


async def test_shredding_destroys_the_digests_so_the_case_no_longer_matches(
    api, gql, runtime, number
):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    shredded = fresh("shredded")
    await subject(api, holder.token, case["id"], phone(number[0]), handle(shredded))
    body = await gql(
        holder.token,
        "mutation($id: ID!) { shredCase(input: {id: $id}) { errors { code } } }",
        {"id": case["id"]},
    )
    assert body["data"]["shredCase"]["errors"] == []

    assert await sql(
        runtime,
        "SELECT count(*) FROM identifier_index WHERE case_id = :c",
        c=stored(runtime, case["id"]),
    ) == [(0,)]
    payload = await check(gql, asker.token, phone(number[1]), handle(shredded))
    assert [result["hits"] for result in payload["results"]] == [[], []]
    assert await search(gql, holder.token, phone(number[1])) == (set(), 0)


async def test_checks_and_searches_are_audited_without_any_value(api, gql, runtime, number):
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[0]))
    quiet = fresh("quiet")
    await check(gql, asker.token, phone(number[1]), handle(quiet))
    await search(gql, holder.token, phone(number[1]))

    rows = await sql(
        runtime,
        "SELECT action, details FROM audit_event WHERE actor_agency_id IN (:a, :h) "
        "AND action IN ('hit.check', 'case.identifier_search') ORDER BY seq",
        a=stored(runtime, asker.id),
        h=stored(runtime, holder.id),
    )

    assert [row[0] for row in rows] == ["hit.check", "case.identifier_search"]
    check_details, search_details = (json.loads(row[1]) for row in rows)
    assert check_details == {
        "identifiers": 2,
        "kinds": ["MESSENGER_HANDLE", "PHONE"],
        "identifiersWithHits": 1,
        "agenciesNotified": 1,
    }
    assert search_details == {"kind": "PHONE", "cases": 1}
    logged = json.dumps([row[1] for row in rows])
    assert number[0][-4:] not in logged
    assert quiet not in logged


async def test_a_hit_notice_reaches_the_holders_live_feed(api, gql, app, number):  # noqa: F811
    holder, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(holder.token)
    await subject(api, holder.token, case["id"], phone(number[0]))
    async with socket(app) as sock:
        await sock.init({"Authorization": f"Bearer {holder.token}"})
        await sock.send(
            {
                "id": "n",
                "type": "subscribe",
                "payload": {
                    "query": "subscription { hitNotices { identifierKind askingAgency { code } "
                    "cases { id } } }"
                },
            }
        )
        await sock.silent()  # subscribed: nothing yet
        await check(gql, asker.token, phone(number[1]))
        message = await sock.receive()

    assert message["type"] == "next", message
    assert message["payload"]["data"]["hitNotices"] == {
        "identifierKind": "PHONE",
        "askingAgency": {"code": asker.code},
        "cases": [{"id": case["id"]}],
    }


async def test_reindex_restores_the_digests_of_identifiers_stored_without_them(
    api, gql, runtime, number
):
    me, asker = await api.agency("MYP"), await api.agency("MYC")
    case = await api.open_case(me.token)
    await subject(api, me.token, case["id"], phone(number[0]), handle(fresh("old")))
    # As a database migrated from before deconfliction holds them: no digests at all.
    await sql(
        runtime, "DELETE FROM identifier_index WHERE case_id = :c", c=stored(runtime, case["id"])
    )
    assert await search(gql, me.token, phone(number[1])) == (set(), 0)

    indexed, skipped = await identifier_index.index_missing(runtime, batch=1)

    assert (indexed, skipped) == (2, 0)
    assert await search(gql, me.token, phone(number[1])) == ({case["id"]}, 1)
    payload = await check(gql, asker.token, phone(number[1]))
    assert payload["results"][0]["hits"][0]["agency"]["code"] == me.code
    assert await identifier_index.index_missing(runtime) == (0, 0)
