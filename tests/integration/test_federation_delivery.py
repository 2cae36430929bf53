"""The federation outbox and its delivery between two real hubs on loopback: MY (the engine
under test: SQLite, then PostgreSQL) queues pings to FR, a real `casehub serve` with its own
SQLite database and keyring; identities made and peers pinned with `casehub federation`.

Everything arrives once and in order, through a peer outage (backoff), a lost ack (the same
bytes, the same ack), a stale envelope (re-sealed under the same id), a permanent refusal
(a dead letter an operator sees and retries), a removed peer (held), concurrent writers of
one conversation and two delivery workers on one database (one sends at a time)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from casehub.app import build_runtime
from casehub.config import Environment, Settings
from casehub.crypto.federation_envelopes import verify_ack
from casehub.crypto.hub_identity import HubPublicIdentity
from casehub.domain.federation.backoff import ceiling
from casehub.domain.federation.envelopes import digest, parse_envelope
from casehub.domain.federation.outbox import DeliveryPolicy, OutboxState
from casehub.domain.federation.peers import UnknownPeer
from casehub.persistence.federation.outbox import sender_lock
from casehub.persistence.tables import AuditEventRow, FederationOutboxRow, FederationPeerRow
from casehub.services.federation import outbox, peers
from casehub.services.federation.delivery import Outcome, deliver_once, run_delivery
from casehub.services.runtime import Runtime, open_scope, utc_now
from tests.federation_delivery_support import (
    inbox,
    new_hub,
    ok,
    refused,
    relay,
    serve_at,
)
from tests.integration.servers import Hub
from tests.integration.test_cli import free_port
from tests.postgres import fresh_postgres, require_postgres

PING = "federation.ping"
MARKER = "marker-outbox-4471"
# Small waits, so that a test moves its clock by seconds, not minutes.
FAST = DeliveryPolicy(base=0.05, cap=0.4, timeout=5.0)


@dataclasses.dataclass
class Pair:
    """MY (sender: its CLI, and its runtime in this process) and FR (a served receiver)."""

    my: Hub
    my_id: UUID
    fr: Hub
    fr_id: UUID
    fr_fingerprint: str
    fr_url: str
    fr_port: int
    fr_database: str
    runtime: Runtime = dataclasses.field(init=False)

    def fr_public(self) -> HubPublicIdentity:
        """FR's identity as MY pinned it."""
        return HubPublicIdentity.from_document_text(self.fr_document)

    fr_document: str = dataclasses.field(init=False)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """MY on the engine under test and FR on SQLite, both with identities, pinned to each
    other with `casehub federation peers add`; FR serving, MY not (this process delivers)."""
    root = tmp_path_factory.mktemp(f"delivery-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgres":
            require_postgres("the federation delivery test")
            my_url = stack.enter_context(fresh_postgres("casehub_outbox"))
        else:
            my_url = f"sqlite+aiosqlite:///{root / 'my.db'}"
        fr_database = f"sqlite+aiosqlite:///{root / 'fr.db'}"
        my, mine = new_hub(root / "MY", my_url, "MY")
        fr, theirs = new_hub(root / "FR", fr_database, "FR")
        stack.callback(my.stop)
        stack.callback(fr.stop)
        fr_port = free_port()
        fr_url = serve_at(fr, fr_port)
        my_url_served = serve_at(my, free_port())
        add = ("federation", "peers", "add", "--url")
        ok(my, *add, fr_url, "--fingerprint", theirs["fingerprint"])
        ok(fr, *add, my_url_served, "--fingerprint", mine["fingerprint"])
        my.stop()  # pinned; MY's own server has no part in what is tested here
        yield Pair(
            my,
            UUID(mine["hub"]),
            fr,
            UUID(theirs["hub"]),
            theirs["fingerprint"],
            fr_url,
            fr_port,
            fr_database,
        )


@pytest.fixture(scope="module")
async def pair(hubs: Pair) -> AsyncIterator[Pair]:
    """The two hubs, with MY's runtime (its database and keyring) in this process."""
    settings = Settings(
        env=Environment.PRODUCTION,
        database_url=hubs.my.env["CASEHUB_DATABASE_URL"],
        keyring=hubs.my.root / "keyring.json",
    )
    hubs.runtime = build_runtime(settings)
    async with open_scope(hubs.runtime) as scope:
        pinned = await scope.store.peer(hubs.fr_id)
    assert pinned is not None
    hubs.fr_document = pinned.document
    yield hubs
    await hubs.runtime.database.dispose()


async def ping(runtime: Runtime, peer: UUID, conversation: UUID, note: str = MARKER) -> UUID:
    """Queue one ping in a transaction of its own (as a change would)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        return await outbox.enqueue(
            scope, peer=peer, type=PING, conversation=conversation, payload={"note": note}
        )


async def row(runtime: Runtime, message_id: UUID) -> FederationOutboxRow:
    async with open_scope(runtime) as scope:
        found = await scope.store.outbox_message(message_id)
    assert found is not None
    return found


async def events(runtime: Runtime, action: str, object_id: UUID) -> list[AuditEventRow]:
    async with open_scope(runtime) as scope:
        statement = select(AuditEventRow).where(
            col(AuditEventRow.action) == action, col(AuditEventRow.object_id) == object_id
        )
        return list((await scope.store.session.execute(statement)).scalars())


def details(event: AuditEventRow) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(event.details)
    return loaded


async def deliver_all(pair: Pair, **kwargs: Any) -> Any:
    """A round that must be led by this process."""
    done = await deliver_once(pair.runtime, policy=FAST, **kwargs)
    assert done.leader
    return done


def received(pair: Pair, conversation: UUID) -> list[tuple[UUID, int, str, str]]:
    return [(m, s, d, a) for m, c, s, d, a in inbox(pair.fr_database) if c == conversation]


async def test_pings_arrive_once_and_in_order_with_a_verified_ack(pair):
    first, second = uuid4(), uuid4()
    ids = [await ping(pair.runtime, pair.fr_id, first, f"{MARKER}-{n}") for n in range(3)]
    ids += [await ping(pair.runtime, pair.fr_id, second) for _ in range(2)]
    queued = [await row(pair.runtime, message_id) for message_id in ids]
    assert [(r.sequence, r.state, r.attempts) for r in queued] == [
        (1, "PENDING", 0),
        (2, "PENDING", 0),
        (3, "PENDING", 0),
        (1, "PENDING", 0),
        (2, "PENDING", 0),
    ]
    # Nothing of the payload rests in clear, before or after it is sent.
    assert all(MARKER.encode() not in r.payload and r.envelope is None for r in queued)

    done = await deliver_all(pair)
    assert done.count(Outcome.DELIVERED) == 5

    delivered = [await row(pair.runtime, message_id) for message_id in ids]
    for stored in delivered:
        assert stored.state == "DELIVERED"
        assert stored.attempts == 1
        assert stored.delivered_at is not None
        assert stored.envelope is not None
        assert stored.ack is not None
        assert MARKER not in stored.envelope
        envelope = stored.envelope.encode()
        ack = verify_ack(pair.fr_public(), stored.ack.encode(), envelope)
        assert ack.id == stored.message_id
        assert ack.envelope == digest(envelope)
    assert [(m, s) for m, s, _d, _a in received(pair, first)] == list(
        zip(ids[:3], [1, 2, 3], strict=True)
    )
    assert [(m, s) for m, s, _d, _a in received(pair, second)] == list(
        zip(ids[3:], [1, 2], strict=True)
    )
    # FR holds exactly the bytes MY sent, and answered the ack MY keeps.
    for stored, (_m, _s, fr_digest, fr_ack) in zip(
        delivered, received(pair, first) + received(pair, second), strict=True
    ):
        assert fr_digest == digest((stored.envelope or "").encode())
        assert fr_ack == stored.ack

    # A second round has nothing to do.
    again = await deliver_all(pair)
    assert again.attempted == 0


async def test_a_peer_that_is_down_is_retried_with_backoff_then_all_arrive_in_order(pair):
    conversation = uuid4()
    pair.fr.stop()
    try:
        ids = [await ping(pair.runtime, pair.fr_id, conversation) for _ in range(3)]
        moment = utc_now()
        for attempt in (1, 2, 3):
            done = await deliver_all(pair, now=moment)
            assert done.count(Outcome.RETRY) == 1  # only the head: 2 waits for 1's ack
            head, *rest = [await row(pair.runtime, message_id) for message_id in ids]
            assert head.state == "PENDING"
            assert head.attempts == attempt
            assert head.last_error_code == "UNREACHABLE"
            wait = head.next_attempt_at - moment
            assert timedelta(0) <= wait <= timedelta(seconds=ceiling(attempt, base=0.05, cap=0.4))
            assert [(r.state, r.attempts, r.envelope) for r in rest] == [("PENDING", 0, None)] * 2
            # Not due yet: a round at the same moment (if the wait was not 0) tries nothing.
            if wait > timedelta(0):
                assert (await deliver_all(pair, now=moment)).attempted == 0
            moment = head.next_attempt_at
        sealed_once = head.envelope
        assert sealed_once is not None
    finally:
        serve_at(pair.fr, pair.fr_port)

    done = await deliver_all(pair, now=moment + timedelta(seconds=1))
    assert done.count(Outcome.DELIVERED) == 3
    stored = [await row(pair.runtime, message_id) for message_id in ids]
    assert [(r.state, r.attempts) for r in stored] == [
        ("DELIVERED", 4),
        ("DELIVERED", 1),
        ("DELIVERED", 1),
    ]
    assert stored[0].envelope == sealed_once  # every retry sent the same bytes
    assert [(m, s) for m, s, _d, _a in received(pair, conversation)] == list(
        zip(ids, [1, 2, 3], strict=True)
    )


async def test_a_lost_ack_is_answered_again_with_the_same_ack_and_applied_once(pair):
    conversation = uuid4()
    message_id = await ping(pair.runtime, pair.fr_id, conversation)
    await deliver_all(pair)
    first = await row(pair.runtime, message_id)
    assert first.state == "DELIVERED"
    # The ack never reached MY: the message is PENDING again with the envelope it sent.
    async with open_scope(pair.runtime) as scope, scope.store.transaction():
        await scope.store.session.execute(
            update(FederationOutboxRow)
            .where(col(FederationOutboxRow.message_id) == message_id)
            .values(state="PENDING", ack=None, delivered_at=None)
        )
    done = await deliver_all(pair)
    assert done.count(Outcome.DELIVERED) == 1
    second = await row(pair.runtime, message_id)
    assert (second.state, second.attempts) == ("DELIVERED", 2)
    assert second.envelope == first.envelope
    assert second.ack == first.ack  # byte for byte: FR's stored ack
    assert len(received(pair, conversation)) == 1


async def test_a_stale_envelope_is_resealed_under_the_same_id(pair):
    conversation = uuid4()
    late = dataclasses.replace(pair.runtime, clock=lambda: utc_now() - timedelta(hours=1))
    message_id = await ping(late, pair.fr_id, conversation)
    # MY's clock is an hour behind: FR refuses the fresh envelope as outside its window.
    done = await deliver_once(late, policy=FAST)
    assert done.count(Outcome.RETRY) == 1
    stale = await row(pair.runtime, message_id)
    assert (stale.state, stale.last_error_code, stale.attempts) == (
        "PENDING",
        "OUTSIDE_WINDOW",
        1,
    )
    assert stale.envelope is not None
    # The clock is right again: the kept envelope is stale, FR never stored it, so the same
    # message is sealed again with a fresh sentAt and sent at once.
    done = await deliver_all(pair, now=utc_now() + timedelta(seconds=5))
    assert done.count(Outcome.DELIVERED) == 1
    fresh = await row(pair.runtime, message_id)
    assert fresh.state == "DELIVERED"
    assert fresh.attempts == 2
    assert fresh.envelope is not None
    assert fresh.envelope != stale.envelope
    old_header = parse_envelope(stale.envelope.encode()).header
    new_header = parse_envelope(fresh.envelope.encode()).header
    assert new_header.id == old_header.id == message_id
    assert new_header.sequence == old_header.sequence == 1
    assert new_header.sent_at - old_header.sent_at > timedelta(minutes=59)
    [(got, _seq, fr_digest, _ack)] = received(pair, conversation)
    assert (got, fr_digest) == (message_id, digest(fresh.envelope.encode()))


async def test_an_unpinned_sender_is_retried_then_a_dead_letter_an_operator_retries(pair):
    conversation = uuid4()
    ok(pair.fr, "federation", "peers", "remove", str(pair.my_id))  # FR unpins MY
    dead_id = await ping(pair.runtime, pair.fr_id, conversation)
    held_id = await ping(pair.runtime, pair.fr_id, conversation)
    # FR may pin MY (again) any time: UNKNOWN_HUB is retried, not given up at once.
    done = await deliver_all(pair)
    assert (done.count(Outcome.RETRY), done.attempted) == (1, 1)
    waiting = await row(pair.runtime, dead_id)
    assert (waiting.state, waiting.last_error_code, waiting.attempts) == (
        "PENDING",
        "UNKNOWN_HUB",
        1,
    )
    # Until the policy gives up.
    give_up = dataclasses.replace(FAST, max_attempts=2)
    done = await deliver_once(pair.runtime, policy=give_up, now=utc_now() + timedelta(seconds=5))
    assert (done.count(Outcome.DEAD), done.attempted) == (1, 1)
    dead = await row(pair.runtime, dead_id)
    assert (dead.state, dead.last_error_code, dead.attempts) == ("DEAD", "UNKNOWN_HUB", 2)
    assert dead.last_error is not None
    assert dead.last_error.startswith("Gave up after 2 attempts: UNKNOWN_HUB")
    # The dead letter holds back the rest of its conversation.
    held = await row(pair.runtime, held_id)
    assert (held.state, held.attempts) == ("PENDING", 0)
    [event] = await events(pair.runtime, "federation.message_dead", dead_id)
    assert event.outcome == "UNKNOWN_HUB"
    assert details(event)["sequence"] == 1
    assert details(event)["attempts"] == 2
    assert details(event)["peer"] == str(pair.fr_id)

    listed = ok(pair.my, "federation", "outbox", "--state", "dead")
    assert [item["id"] for item in listed] == [str(dead_id)]
    assert listed[0]["last_error_code"] == "UNKNOWN_HUB"
    assert listed[0]["peer_name"] == "FR"
    assert {
        item["state"] for item in ok(pair.my, "federation", "outbox", "--state", "PENDING")
    } == {"PENDING"}
    text = casehub_text(pair.my, "federation", "outbox", "--state", "dead")
    assert str(dead_id) in text
    assert "UNKNOWN_HUB" in text

    # The operators fix the peering; MY's operator retries the dead letter.
    my_url = serve_at(pair.my, free_port())
    try:
        fingerprint = ok(pair.my, "federation", "identity")["fingerprint"]
        ok(pair.fr, "federation", "peers", "add", "--url", my_url, "--fingerprint", fingerprint)
    finally:
        pair.my.stop()
    retried = ok(pair.my, "federation", "outbox", "retry", str(dead_id))
    assert (retried["state"], retried["attempts"]) == ("PENDING", 0)
    [event] = await events(pair.runtime, "federation.outbox_retry", dead_id)
    assert details(event)["lastError"] == "UNKNOWN_HUB"
    assert details(event)["resealed"] is False
    round_ = ok(pair.my, "federation", "deliver", "--once")
    assert round_["leader"] is True
    assert round_["delivered"] == 2
    assert [(await row(pair.runtime, i)).state for i in (dead_id, held_id)] == ["DELIVERED"] * 2
    assert [m for m, _s, _d, _a in received(pair, conversation)] == [dead_id, held_id]

    # Every mistake of the operator is one line and changes nothing.
    assert "is not an outbox state" in refused(pair.my, 2, "federation", "outbox", "--state", "x")
    assert "not a message id" in refused(pair.my, 2, "federation", "outbox", "retry", "nope")
    unknown = uuid4()
    assert str(unknown) in refused(pair.my, 1, "federation", "outbox", "retry", str(unknown))
    error = refused(pair.my, 1, "federation", "outbox", "retry", str(dead_id))
    assert "DELIVERED" in error
    assert "only a DEAD" in error
    assert "--once" in refused(pair.my, 2, "federation", "deliver")
    assert (await row(pair.runtime, dead_id)).state == "DELIVERED"


async def test_a_hub_without_identity_cannot_deliver(pair, tmp_path):
    other = Hub(tmp_path, pair.my.env["CASEHUB_DATABASE_URL"])
    other.cli("keys", "init")  # a keyring with no hub identity, on MY's database
    error = refused(other, 1, "federation", "deliver", "--once")
    assert "casehub federation init" in error


async def failing_change(pair: Pair, conversation: UUID) -> None:
    """A change that queues a message, then fails: both roll back."""
    async with open_scope(pair.runtime) as scope, scope.store.transaction():
        await outbox.enqueue(
            scope, peer=pair.fr_id, type=PING, conversation=conversation, payload={"note": "x"}
        )
        raise RuntimeError("the change failed")


def casehub_text(hub: Hub, *args: str) -> str:
    from tests.federation_delivery_support import casehub

    result = casehub(hub, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_a_removed_peer_holds_its_messages_until_pinned_again(pair):
    conversation = uuid4()
    message_id = await ping(pair.runtime, pair.fr_id, conversation)
    await peers.remove_peer(pair.runtime, pair.fr_id)
    try:
        done = await deliver_all(pair, now=utc_now() + timedelta(days=30))
        assert done.attempted == 0
        held = await row(pair.runtime, message_id)
        assert (held.state, held.attempts) == ("PENDING", 0)
        listed = ok(pair.my, "federation", "outbox", "--state", "pending")
        assert [item["peer_removed"] for item in listed if item["id"] == str(message_id)] == [True]
        # Nothing new is queued to a hub that is not pinned.
        async with open_scope(pair.runtime) as scope:
            before = await scope.store.count_rows(FederationOutboxRow)
        with pytest.raises(UnknownPeer):
            await ping(pair.runtime, pair.fr_id, conversation)
        async with open_scope(pair.runtime) as scope:
            assert await scope.store.count_rows(FederationOutboxRow) == before
    finally:
        await peers.add_peer(pair.runtime, url=pair.fr_url, fingerprint=pair.fr_fingerprint)
    await deliver_all(pair)
    assert (await row(pair.runtime, message_id)).state == "DELIVERED"


async def test_bad_payloads_and_unknown_peers_are_refused_and_write_nothing(pair):
    async with open_scope(pair.runtime) as scope:
        before = await scope.store.count_rows(FederationOutboxRow)
    bad: list[tuple[UUID, str, dict[str, Any], type[Exception]]] = [
        (pair.fr_id, PING, {"note": "x" * 201}, outbox.PayloadRefused),
        (pair.fr_id, PING, {"note": "x", "more": 1}, outbox.PayloadRefused),
        (pair.fr_id, PING, {"note": float("nan")}, outbox.PayloadRefused),
        (pair.fr_id, "federation.unknown", {"note": "x"}, outbox.PayloadRefused),
        (uuid4(), PING, {"note": "x"}, UnknownPeer),
    ]
    for peer, message_type, payload, error in bad:
        with pytest.raises(error):
            async with open_scope(pair.runtime) as scope, scope.store.transaction():
                await outbox.enqueue(
                    scope, peer=peer, type=message_type, conversation=uuid4(), payload=payload
                )
    async with open_scope(pair.runtime) as scope:
        assert await scope.store.count_rows(FederationOutboxRow) == before


async def test_concurrent_writers_of_one_conversation_get_consecutive_sequences(pair):
    conversation = uuid4()

    async def writer(n: int) -> UUID:
        async with open_scope(pair.runtime) as scope, scope.store.transaction():
            message_id = await outbox.enqueue(
                scope,
                peer=pair.fr_id,
                type=PING,
                conversation=conversation,
                payload={"note": f"{n}"},
            )
            await asyncio.sleep(0.02)  # hold the transaction open: the others must wait
            return message_id

    ids = await asyncio.gather(*(writer(n) for n in range(12)))
    sequences = sorted([(await row(pair.runtime, i)).sequence for i in ids])
    assert sequences == list(range(1, 13))
    # A writer that rolls back leaves no gap.
    with pytest.raises(RuntimeError, match="the change failed"):
        await failing_change(pair, conversation)
    last = await ping(pair.runtime, pair.fr_id, conversation)
    assert (await row(pair.runtime, last)).sequence == 13
    await deliver_all(pair)
    assert [s for _m, s, _d, _a in received(pair, conversation)] == list(range(1, 14))


async def test_misbehaving_answers_are_retried_never_delivered(pair):
    conversation = uuid4()
    message_id = await ping(pair.runtime, pair.fr_id, conversation)
    answers = [
        ((503, b"<html>down for maintenance</html>", ()), "HTTP_503"),
        ((200, b'{"v": "casehub-federation/1", "ack": "x", "signature": "y"}', ()), "ACK_INVALID"),
        ((307, b"", (("Location", pair.fr_url + "/elsewhere"),)), "HTTP_307"),
        ((500, b"x" * (64 * 1024), ()), "UNREACHABLE"),  # an answer longer than an ack can be
    ]
    with relay() as fake:
        await point_peer(pair, fake.base)
        try:
            moment = utc_now()
            for attempt, (answer, code) in enumerate(answers, start=1):
                fake.answer = answer
                done = await deliver_all(pair, now=moment)
                assert done.count(Outcome.RETRY) == 1, code
                stored = await row(pair.runtime, message_id)
                assert (stored.state, stored.attempts, stored.last_error_code) == (
                    "PENDING",
                    attempt,
                    code,
                )
                moment = stored.next_attempt_at
            # A peer that answers too slowly is no answer.
            fake.answer, fake.delay = (503, b"", ()), 1.0
            slow = dataclasses.replace(FAST, timeout=0.3)
            assert (await deliver_once(pair.runtime, policy=slow, now=moment)).leader
            stored = await row(pair.runtime, message_id)
            assert (stored.attempts, stored.last_error_code) == (len(answers) + 1, "UNREACHABLE")
            moment = stored.next_attempt_at
        finally:
            await point_peer(pair, pair.fr_url)
    assert received(pair, conversation) == []
    await deliver_all(pair, now=moment)
    assert (await row(pair.runtime, message_id)).state == "DELIVERED"


async def test_the_policy_gives_up_on_a_peer_down_too_long(pair):
    conversation = uuid4()
    message_id = await ping(pair.runtime, pair.fr_id, conversation)
    with relay() as fake:
        fake.answer = (503, b"", ())
        await point_peer(pair, fake.base)
        try:
            policy = dataclasses.replace(FAST, max_attempts=3)
            moment = utc_now()
            for _ in range(3):
                await deliver_once(pair.runtime, policy=policy, now=moment)
                moment = (await row(pair.runtime, message_id)).next_attempt_at
        finally:
            await point_peer(pair, pair.fr_url)
    dead = await row(pair.runtime, message_id)
    assert (dead.state, dead.attempts, dead.last_error_code) == ("DEAD", 3, "HTTP_503")
    assert dead.last_error is not None
    assert dead.last_error.startswith("Gave up after 3 attempts")
    await outbox.retry_message(pair.runtime, message_id)
    await deliver_all(pair)
    assert (await row(pair.runtime, message_id)).state == "DELIVERED"


async def test_a_payload_that_no_longer_opens_is_a_dead_letter_at_once(pair):
    message_id = await ping(pair.runtime, pair.fr_id, uuid4())
    stored = await row(pair.runtime, message_id)
    altered = stored.payload[:-1] + bytes([stored.payload[-1] ^ 1])
    async with open_scope(pair.runtime) as scope, scope.store.transaction():
        await scope.store.session.execute(
            update(FederationOutboxRow)
            .where(col(FederationOutboxRow.message_id) == message_id)
            .values(payload=altered)
        )
    done = await deliver_all(pair)
    assert done.count(Outcome.DEAD) == 1
    dead = await row(pair.runtime, message_id)
    assert (dead.state, dead.last_error_code, dead.envelope) == ("DEAD", "SEAL_BROKEN", None)


async def test_a_round_starts_no_attempt_once_stopped(pair):
    message_id = await ping(pair.runtime, pair.fr_id, uuid4())
    stop = asyncio.Event()
    stop.set()  # `casehub serve` is shutting down
    done = await deliver_once(pair.runtime, policy=FAST, stop=stop)
    assert done.leader
    assert done.attempted == 0
    assert (await row(pair.runtime, message_id)).attempts == 0
    await deliver_all(pair)
    assert (await row(pair.runtime, message_id)).state == "DELIVERED"


async def point_peer(pair: Pair, url: str) -> None:
    """Make MY send to FR through `url` (the pinned row's URL, as if FR moved there)."""
    async with open_scope(pair.runtime) as scope, scope.store.transaction():
        await scope.store.session.execute(
            update(FederationPeerRow)
            .where(col(FederationPeerRow.hub_id) == pair.fr_id)
            .values(url=url)
        )


async def test_one_sender_at_a_time_across_workers_on_one_database(pair):
    # Two processes' worth of runtimes on MY's database, each running the serve worker.
    other = build_runtime(pair.runtime.settings)
    try:
        async with (
            sender_lock(pair.runtime.database) as first,
            sender_lock(other.database) as second,
        ):
            assert (first, second) == (True, False)
            assert not (await deliver_once(other, policy=FAST)).leader
        async with sender_lock(other.database) as again:
            assert again  # released with the block

        conversation = uuid4()
        ids = [await ping(pair.runtime, pair.fr_id, conversation) for _ in range(6)]
        with relay(target=pair.fr_url, delay=0.05) as watched:
            await point_peer(pair, watched.base)
            stop = asyncio.Event()
            workers = [
                asyncio.create_task(run_delivery(runtime, 0.01, stop, policy=FAST))
                for runtime in (pair.runtime, other)
            ]
            try:
                for _ in range(600):
                    if (await row(pair.runtime, ids[-1])).state == "DELIVERED":
                        break
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await asyncio.gather(*workers)
                await point_peer(pair, pair.fr_url)
        assert [(await row(pair.runtime, i)).state for i in ids] == ["DELIVERED"] * 6
        assert watched.posts == 6  # each sent once: never by both workers
        assert watched.most_in_flight == 1
        assert [m for m, _s, _d, _a in received(pair, conversation)] == ids
    finally:
        await other.database.dispose()


async def test_the_depth_by_state_for_the_metrics(pair):
    depth = await outbox.outbox_depth(pair.runtime)
    assert set(depth.by_state) == {state.value for state in OutboxState}
    async with open_scope(pair.runtime) as scope:
        statement = select(col(FederationOutboxRow.state), func.count()).group_by(
            col(FederationOutboxRow.state)
        )
        counted = dict((await scope.store.session.execute(statement)).all())
    assert {k: v for k, v in depth.by_state.items() if v} == counted
    pair.fr.stop()
    try:
        await ping(pair.runtime, pair.fr_id, uuid4())
        depth = await outbox.outbox_depth(pair.runtime)
        assert depth.by_state["PENDING"] >= 1
        assert depth.oldest_pending is not None
        assert depth.oldest_pending >= timedelta(0)
        seen: list[Any] = []
        stop = asyncio.Event()

        def observe(depth: Any) -> None:
            seen.append(depth)
            stop.set()

        await run_delivery(pair.runtime, 0.01, stop, policy=FAST, observe=observe)
        assert seen[0].by_state["PENDING"] >= 1
    finally:
        serve_at(pair.fr, pair.fr_port)
    await deliver_all(pair, now=utc_now() + timedelta(minutes=5))
    assert (await outbox.outbox_depth(pair.runtime)).oldest_pending is None
