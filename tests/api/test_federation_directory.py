"""A peer's agency directory received at this hub (FR), on both engines: sealed and signed by
the peer, accepted through the receiving path (receive_envelope) and applied in the same
transaction as its inbox row; then read through GraphQL with its home hub, addressed like
any agency; and every way a peer's agency could be chosen as a target refused REMOTE_AGENCY,
writing nothing but its audit event."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlmodel import col

from casehub.api.ids import to_global_id
from casehub.crypto import LocalKeyring, create_keyring
from casehub.crypto.federation_envelopes import seal_envelope
from casehub.crypto.federation_outbox import open_from_self
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.domain.buckets import Rate
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.errors import RemoteAgency, ValidationFailed
from casehub.domain.federation.directory import DIRECTORY, DIRECTORY_MAX_AGENCIES
from casehub.domain.federation.envelopes import EnvelopeRefused, RefusalCode, format_moment
from casehub.domain.federation.outbox import self_seal_binding
from casehub.domain.federation.peers import UnknownPeer
from casehub.domain.ids import new_id
from casehub.persistence.tables import (
    AgencyRow,
    AuditEventRow,
    CooperationRequestRow,
    FederationInboxRow,
    FederationOutboxRow,
    FederationPeerRow,
)
from casehub.services.agencies import agencies, auth
from casehub.services.federation.directory import (
    DirectoryTooLarge,
    directory_conversation,
    publish_directory,
)
from casehub.services.federation.messages import NotFederated, RefusalLog, receive_envelope
from casehub.services.ratelimit import RateLimiter
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import Api
from tests.request_support import Requests, request_input
from tests.support import nothing_written

WINDOW = timedelta(seconds=300)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclasses.dataclass
class Fr:
    """This hub, FR: its identity and a runtime holding it (the engine under test)."""

    identity: HubIdentity
    runtime: Runtime


@pytest.fixture(scope="session")
def fr_keyring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fr-directory") / "keyring.json"
    create_keyring(path)
    add_hub_identity(path, "FR")
    return path


@pytest.fixture(scope="session")
async def fr(runtime: Runtime, fr_keyring: Path) -> Fr:
    keys = LocalKeyring.load(fr_keyring)
    settings = runtime.settings.model_copy(update={"keyring": fr_keyring})
    return Fr(keys.hub_identity(), dataclasses.replace(runtime, keys=keys, settings=settings))


@dataclasses.dataclass
class Peer:
    """A peer hub pinned at FR for one test, and what it sent so far."""

    identity: HubIdentity
    sequences: count[int] = dataclasses.field(default_factory=lambda: count(1))

    @property
    def hub_id(self) -> UUID:
        return self.identity.hub_id


async def pin(fr: Fr, name: str) -> Peer:
    """A new peer hub, pinned at FR as `peers add` stores it (without its HTTP fetch)."""
    identity = HubIdentity.generate(name)
    async with open_scope(fr.runtime) as scope, scope.store.transaction():
        scope.store.add(
            FederationPeerRow(
                hub_id=identity.hub_id,
                name=name,
                url="http://127.0.0.1:9",
                fingerprint=identity.public.fingerprint(),
                document=identity.public.document_text,
                added_at=datetime.now(UTC),
            )
        )
    return Peer(identity)


def agency(code: str, name: str | None = None, **fields: Any) -> dict[str, Any]:
    """One directory entry (a fresh UUIDv7 id unless given)."""
    return {
        "id": str(fields.pop("id", new_id())),
        "code": code,
        "name": name or f"Agency {code}",
        "kind": "PROSECUTOR",
        "jurisdiction": "FR",
        "timezone": "Europe/Paris",
        **fields,
    }


async def send(fr: Fr, peer: Peer, issued_at: datetime, entries: list[dict[str, Any]]) -> bytes:
    """Seal the peer's directory to FR and have FR receive it; the ack."""
    body = seal_envelope(
        peer.identity,
        fr.identity.public,
        type=DIRECTORY,
        conversation=directory_conversation(fr.identity.hub_id),
        sequence=next(peer.sequences),
        payload={"issuedAt": format_moment(issued_at), "agencies": entries},
    )
    refusals = RefusalLog(RateLimiter(Rate(1.0, 60)))
    return await receive_envelope(fr.runtime, body=body, window=WINDOW, refusals=refusals)


async def rows_of(runtime: Runtime, hub_id: UUID) -> dict[str, AgencyRow]:
    """The peer's agencies at FR, by code."""
    async with open_scope(runtime) as scope:
        return {row.code: row for row in await scope.store.agencies_of_hub(hub_id)}


async def events(runtime: Runtime, action: str, sender: UUID) -> list[dict[str, Any]]:
    """The details of the audit events of `action` about this sender, oldest first."""
    async with open_scope(runtime) as scope:
        statement = (
            select(AuditEventRow)
            .where(col(AuditEventRow.action) == action)
            .order_by(col(AuditEventRow.seq))
        )
        found = (await scope.store.session.execute(statement)).scalars()
        return [
            {**json.loads(row.details), "_outcome": row.outcome, "_object": row.object_id}
            for row in found
            if json.loads(row.details).get("sender") == str(sender)
        ]


async def issued_at_of(runtime: Runtime, hub_id: UUID) -> datetime | None:
    async with open_scope(runtime) as scope:
        row = await scope.store.peer(hub_id)
    assert row is not None
    return row.directory_issued_at


async def test_a_first_directory_lists_the_peer_s_agencies(fr: Fr) -> None:
    peer = await pin(fr, "MY")
    entries = [
        agency("MY-PDRM", kind="LAW_ENFORCEMENT", jurisdiction="MY", timezone="Asia/Kuala_Lumpur"),
        agency("MY-MCMC", kind="REGULATOR"),
    ]
    await send(fr, peer, T0, entries)

    held = await rows_of(fr.runtime, peer.hub_id)
    assert sorted(held) == ["MY-MCMC", "MY-PDRM"]
    police = held["MY-PDRM"]
    assert str(police.id) == entries[0]["id"]
    assert (police.name, police.kind, police.jurisdiction, police.timezone) == (
        "Agency MY-PDRM",
        "LAW_ENFORCEMENT",
        "MY",
        "Asia/Kuala_Lumpur",
    )
    assert police.home_hub_id == peer.hub_id
    assert police.delisted_at is None
    assert await issued_at_of(fr.runtime, peer.hub_id) == T0
    (applied,) = await events(fr.runtime, "federation.directory_apply", peer.hub_id)
    assert applied["added"] == 2
    assert applied["conflicts"] == 0
    assert applied["issuedAt"] == format_moment(T0)
    # Applied in the transaction that accepted the envelope: its inbox row is there.
    async with open_scope(fr.runtime) as scope:
        statement = select(FederationInboxRow).where(col(FederationInboxRow.sender) == peer.hub_id)
        (inbox,) = (await scope.store.session.execute(statement)).scalars()
    assert inbox.type == DIRECTORY
    assert applied["_object"] == inbox.message_id


async def test_a_newer_directory_updates_delists_and_lists_again(fr: Fr) -> None:
    peer = await pin(fr, "FR2")
    a, b, c = agency("X-A"), agency("X-B"), agency("X-C")
    await send(fr, peer, T0, [a, b])
    # A renamed, B left out (delisted, kept), C new.
    await send(fr, peer, T0 + timedelta(hours=1), [{**a, "name": "Renamed"}, c])
    held = await rows_of(fr.runtime, peer.hub_id)
    assert held["X-A"].name == "Renamed"
    assert held["X-A"].delisted_at is None
    assert held["X-B"].delisted_at is not None
    assert held["X-C"].delisted_at is None
    *_, second = await events(fr.runtime, "federation.directory_apply", peer.hub_id)
    assert (second["added"], second["updated"], second["delisted"]) == (1, 1, 1)

    # B listed again: no longer delisted, under the same id.
    await send(fr, peer, T0 + timedelta(hours=2), [a, b, c])
    held = await rows_of(fr.runtime, peer.hub_id)
    assert held["X-B"].delisted_at is None
    assert str(held["X-B"].id) == b["id"]
    assert held["X-A"].name == a["name"]
    # An empty directory delists every agency of the peer, deleting none.
    await send(fr, peer, T0 + timedelta(hours=3), [])
    held = await rows_of(fr.runtime, peer.hub_id)
    assert len(held) == 3
    assert all(row.delisted_at is not None for row in held.values())


async def test_an_older_or_equal_directory_is_ignored(fr: Fr) -> None:
    peer = await pin(fr, "OLD")
    a = agency("O-A")
    await send(fr, peer, T0 + timedelta(hours=1), [a])
    for late in (T0, T0 + timedelta(hours=1)):  # delivered late, or the same moment again
        await send(fr, peer, late, [{**a, "name": "Stale"}, agency("O-B")])
    held = await rows_of(fr.runtime, peer.hub_id)
    assert list(held) == ["O-A"]
    assert held["O-A"].name == a["name"]
    assert await issued_at_of(fr.runtime, peer.hub_id) == T0 + timedelta(hours=1)
    _first, *ignored = await events(fr.runtime, "federation.directory_apply", peer.hub_id)
    assert [event["ignored"] for event in ignored] == [
        "not newer than the directory applied last"
    ] * 2
    assert ignored[0]["lastApplied"] == format_moment(T0 + timedelta(hours=1))


async def test_an_id_of_a_local_or_another_peer_s_agency_is_refused_and_audited(
    fr: Fr, world: Any
) -> None:
    first = await pin(fr, "FIRST")
    second = await pin(fr, "SECOND")
    local = await world.agency("LOC")
    taken = agency("F-TAKEN")
    await send(fr, first, T0, [taken])

    hijack_local = agency("S-LOCAL", id=local.uuid)
    hijack_peer = agency("S-PEER", id=taken["id"])
    fine = agency("S-FINE")
    await send(fr, second, T0, [hijack_local, hijack_peer, fine])

    assert list(await rows_of(fr.runtime, second.hub_id)) == ["S-FINE"]
    async with open_scope(fr.runtime) as scope:
        (mine,) = await scope.store.agencies_by_ids([local.uuid])
        (theirs,) = await scope.store.agencies_by_ids([UUID(taken["id"])])
    assert (mine.code, mine.home_hub_id) == (local.code, None)  # never overwritten
    assert (theirs.code, theirs.home_hub_id) == ("F-TAKEN", first.hub_id)
    conflicts = await events(fr.runtime, "federation.directory_conflict", second.hub_id)
    assert [(c["code"], c["refusal"], c["homeHub"], c["_outcome"]) for c in conflicts] == [
        ("S-LOCAL", "LOCAL_AGENCY", None, "CONFLICT"),
        ("S-PEER", "OTHER_HUB", str(first.hub_id), "CONFLICT"),
    ]
    assert conflicts[0]["_object"] == local.uuid
    (applied,) = await events(fr.runtime, "federation.directory_apply", second.hub_id)
    assert (applied["added"], applied["conflicts"]) == (1, 2)

    # The first peer reuses F-TAKEN under a new id while the old one still holds it.
    await send(fr, first, T0 + timedelta(seconds=1), [agency("F-TAKEN")])
    (reused,) = await events(fr.runtime, "federation.directory_conflict", first.hub_id)
    assert (reused["code"], reused["refusal"]) == ("F-TAKEN", "CODE_TAKEN")
    held = await rows_of(fr.runtime, first.hub_id)
    assert str(held["F-TAKEN"].id) == taken["id"]
    assert held["F-TAKEN"].delisted_at is not None  # left out of the newer directory


async def test_codes_are_unique_per_hub(fr: Fr, world: Any) -> None:
    local = await world.agency("DUP")
    peer = await pin(fr, "CODES")
    remote_only = agency("ONLY-" + local.code)
    # A peer may use a local agency's code.
    await send(fr, peer, T0, [agency(local.code), remote_only])
    assert sorted(await rows_of(fr.runtime, peer.hub_id)) == sorted(
        [local.code, remote_only["code"]]
    )
    async with open_scope(fr.runtime) as scope:
        # Look-ups by code are this hub's own agencies': the local one, not the peer's.
        found = await agencies.agency_by_code(scope, local.code)
    assert found is not None
    assert found.id == local.uuid
    assert found.home_hub_id is None
    async with open_scope(fr.runtime) as scope:
        # A new local agency may take a code only a peer's agency has...
        view = await agencies.register_agency(
            scope,
            code=remote_only["code"],
            name="Local twin",
            jurisdiction="FR",
            kind=AgencyKind.PROSECUTOR,
            as_operator=True,
        )
    assert view.home_hub_id is None
    assert str(view.id) != remote_only["id"]
    async with open_scope(fr.runtime) as scope:
        # ...and local codes stay unique among local agencies.
        with pytest.raises(ValidationFailed, match="exists already"):
            await agencies.register_agency(
                scope,
                code=local.code,
                name="Twin",
                jurisdiction="FR",
                kind=AgencyKind.PROSECUTOR,
                as_operator=True,
            )


async def test_a_directory_over_the_bound_is_refused_writing_nothing(fr: Fr) -> None:
    peer = await pin(fr, "BIG")
    entries = [agency(f"B-{n}") for n in range(DIRECTORY_MAX_AGENCIES + 1)]
    async with nothing_written(fr.runtime):
        with pytest.raises(EnvelopeRefused) as refused:
            await send(fr, peer, T0, entries)
    assert refused.value.code is RefusalCode.MALFORMED
    assert "more than 1000 agencies" in refused.value.message
    assert await rows_of(fr.runtime, peer.hub_id) == {}
    assert await issued_at_of(fr.runtime, peer.hub_id) is None
    (refusal,) = [
        event
        for event in await events(fr.runtime, "federation.message_refuse", peer.hub_id)
        if event["type"] == DIRECTORY
    ]
    assert refusal["code"] == "MALFORMED"


async def test_a_malformed_entry_refuses_the_whole_directory(fr: Fr) -> None:
    peer = await pin(fr, "BAD")
    async with nothing_written(fr.runtime):
        with pytest.raises(EnvelopeRefused) as refused:
            await send(fr, peer, T0, [agency("G-OK"), agency("g-lower")])
    assert refused.value.code is RefusalCode.MALFORMED
    assert "agencies[1] member 'code'" in refused.value.message


AGENCY_FIELDS = "id code name kind jurisdiction timezone delisted homeHub { hubId name }"


async def test_graphql_shows_the_home_hub_and_addresses_every_agency_by_id(
    fr: Fr, api: Api
) -> None:
    peer = await pin(fr, "GQL")
    kept, gone = agency("Q-KEPT"), agency("Q-GONE")
    await send(fr, peer, T0, [kept, gone])
    await send(fr, peer, T0 + timedelta(minutes=1), [kept])
    local = await api.agency("GQL")
    ids = [to_global_id("Agency", UUID(e["id"])) for e in (kept, gone)] + [local.id]
    body = await api.gql(
        local.tokens[Role.READER.value],
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Agency {{ {AGENCY_FIELDS} }} }} }}",
        {"ids": ids},
    )
    assert "errors" not in body, body
    remote_kept, remote_gone, mine = body["data"]["nodes"]
    hub = {"hubId": str(peer.hub_id), "name": "GQL"}
    assert remote_kept == {
        "id": ids[0],
        "code": "Q-KEPT",
        "name": "Agency Q-KEPT",
        "kind": "PROSECUTOR",
        "jurisdiction": "FR",
        "timezone": "Europe/Paris",
        "delisted": False,
        "homeHub": hub,
    }
    assert (remote_gone["delisted"], remote_gone["homeHub"]) == (True, hub)
    assert (mine["code"], mine["delisted"], mine["homeHub"]) == (local.code, False, None)

    # One listing, `agencies`: the peer's agencies (newest ids last) beside the local ones.
    body = await api.gql(
        local.token,
        f"{{ agencies(last: 50) {{ totalCount edges {{ node {{ {AGENCY_FIELDS} }} }} }} }}",
    )
    assert "errors" not in body, body
    listed = {edge["node"]["id"]: edge["node"] for edge in body["data"]["agencies"]["edges"]}
    assert listed[ids[0]]["homeHub"] == hub
    assert listed[local.id]["homeHub"] is None


async def test_home_hubs_are_read_in_one_statement_per_page(
    fr: Fr, api: Api, sql_counter: Any
) -> None:
    peers = [await pin(fr, f"N{n}") for n in range(3)]
    for n, peer in enumerate(peers):
        await send(fr, peer, T0, [agency(f"N{n}-{m}") for m in range(4)])
    local = await api.agency("NPO")
    query = f"{{ agencies(last: 13) {{ edges {{ node {{ {AGENCY_FIELDS} }} }} }} }}"
    sql_counter.active = True
    body = await api.gql(local.token, query)
    sql_counter.active = False
    assert "errors" not in body, body
    hubs = {
        edge["node"]["homeHub"]["hubId"]
        for edge in body["data"]["agencies"]["edges"]
        if edge["node"]["homeHub"] is not None
    }
    assert hubs == {str(peer.hub_id) for peer in peers}
    peer_reads = [s for s in sql_counter.statements if "FROM federation_peer" in s]
    assert len(peer_reads) == 1, peer_reads


async def remote_agency(fr: Fr, name: str) -> dict[str, Any]:
    peer = await pin(fr, name)
    entry = agency(f"{name}-R")
    await send(fr, peer, T0, [entry])
    return entry


async def test_a_remote_agency_gets_no_token_or_principal(fr: Fr, runtime: Runtime) -> None:
    entry = await remote_agency(fr, "TOK")
    async with nothing_written(runtime), open_scope(runtime) as scope:
        with pytest.raises(RemoteAgency) as refused:
            await auth.issue_token(scope, agency_code=entry["code"], roles=[Role.READER])
    assert refused.value.code.value == "REMOTE_AGENCY"
    assert refused.value.field == ["agency"]
    assert "reached through federation" in refused.value.message


async def test_a_case_is_not_shared_with_a_remote_agency(
    fr: Fr, api: Api, runtime: Runtime
) -> None:
    entry = await remote_agency(fr, "SHR")
    owner = await api.agency("SHR")
    case = await api.open_case(owner.token)
    async with nothing_written(runtime):
        payload = await api.share(
            owner.token, case["id"], to_global_id("Agency", UUID(entry["id"]))
        )
    assert api.error_code(payload) == "REMOTE_AGENCY"
    assert payload["errors"][0]["field"][-1] == "agencyId"
    assert "reached through federation" in payload["errors"][0]["message"]


async def test_a_request_does_not_go_to_a_remote_agency(
    fr: Fr, api: Api, req: Requests, runtime: Runtime
) -> None:
    entry = await remote_agency(fr, "REQ")
    police = await api.agency("REQ")
    before = await requests_count(runtime)
    async with nothing_written(runtime):
        payload = await req.create(
            police.token, request_input(to_global_id("Agency", UUID(entry["id"])))
        )
    assert await requests_count(runtime) == before  # not among nothing_written's tables
    assert api.error_code(payload) == "REMOTE_AGENCY"
    assert payload["errors"][0]["field"][-1] == "requestedAgencyId"


async def requests_count(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(CooperationRequestRow)


async def outbox_rows(runtime: Runtime) -> list[FederationOutboxRow]:
    async with open_scope(runtime) as scope:
        statement = select(FederationOutboxRow).where(col(FederationOutboxRow.type) == DIRECTORY)
        return list((await scope.store.session.execute(statement)).scalars())


async def test_publishing_queues_this_hub_s_own_agencies_to_each_pinned_peer(
    fr: Fr, world: Any
) -> None:
    mine = await world.agency("PUB")
    peer = await pin(fr, "PUB")
    await send(fr, peer, T0, [agency("PUB-REMOTE")])  # a peer's agency: never republished
    before = {row.message_id for row in await outbox_rows(fr.runtime)}

    one = await publish_directory(fr.runtime, peer.hub_id)
    assert list(one.messages) == [peer.hub_id]
    everyone = await publish_directory(fr.runtime)
    async with open_scope(fr.runtime) as scope:
        pinned_now = {row.hub_id for row in await scope.store.peers()}
    assert set(everyone.messages) == pinned_now

    queued = {row.message_id: row for row in await outbox_rows(fr.runtime)}
    assert set(queued) - before == {*one.messages.values(), *everyone.messages.values()}
    row = queued[one.messages[peer.hub_id]]
    assert row.peer == peer.hub_id
    assert row.conversation == directory_conversation(peer.hub_id)
    assert queued[everyone.messages[peer.hub_id]].sequence == row.sequence + 1
    sent = open_from_self(
        fr.identity,
        row.payload,
        self_seal_binding(row.message_id, row.peer, row.conversation, row.type),
    )
    assert sent["issuedAt"] == one.issued_at
    codes = {entry["code"] for entry in sent["agencies"]}
    assert mine.code in codes
    assert "PUB-REMOTE" not in codes
    assert len(sent["agencies"]) == one.agencies
    async with open_scope(fr.runtime) as scope:
        statement = select(AuditEventRow).where(
            col(AuditEventRow.action) == "federation.directory_publish"
        )
        found = (await scope.store.session.execute(statement)).scalars()
        details = [json.loads(event.details) for event in found]
    # One event per publication, naming the message queued to each peer.
    assert any(d["peers"] == {str(peer.hub_id): str(row.message_id)} for d in details)


async def test_publishing_to_a_hub_not_pinned_writes_nothing(fr: Fr) -> None:
    before = len(await outbox_rows(fr.runtime))
    with pytest.raises(UnknownPeer):
        await publish_directory(fr.runtime, new_id())
    assert len(await outbox_rows(fr.runtime)) == before


async def test_a_hub_without_an_identity_publishes_nothing(fr: Fr, runtime: Runtime) -> None:
    before = len(await outbox_rows(runtime))
    with pytest.raises(NotFederated):
        await publish_directory(runtime)  # the suite's runtime: a keyring with no hub identity
    assert len(await outbox_rows(runtime)) == before


async def test_a_directory_over_the_bound_is_not_published(fr: Fr) -> None:
    # Old ids (the smallest), so that the listings the other tests read stay as they were.
    async with open_scope(fr.runtime) as scope, scope.store.transaction():
        have = await scope.store.count_local_agencies()
        scope.store.add(
            *(
                AgencyRow(
                    id=UUID(int=n + 1),
                    code=f"BULK-{n}",
                    name=f"Bulk {n}",
                    jurisdiction="FR",
                    kind="PROSECUTOR",
                    created_at=T0,
                )
                for n in range(max(0, DIRECTORY_MAX_AGENCIES + 1 - have))
            )
        )
    before = len(await outbox_rows(fr.runtime))
    with pytest.raises(DirectoryTooLarge) as refused:
        await publish_directory(fr.runtime)
    assert refused.value.code.value == "VALIDATION"
    assert len(await outbox_rows(fr.runtime)) == before
