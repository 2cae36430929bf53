"""POST /federation/v1/messages over HTTP, on both engines: an envelope from a pinned peer is
accepted once and acknowledged; the same envelope again gets the same ack and writes nothing;
every refusal has its typed error and writes nothing but what the audit rules say."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from casehub.app import create_app
from casehub.config import Settings
from casehub.crypto import LocalKeyring, create_keyring
from casehub.crypto.federation_envelopes import seal_envelope, verify_ack
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.domain.federation.envelopes import (
    ENVELOPE_MAX_BYTES,
    digest,
    envelope_bytes,
    signing_input,
)
from casehub.persistence.tables import AuditEventRow, FederationInboxRow, FederationPeerRow
from casehub.services.federation.peers import remove_peer
from casehub.services.runtime import Runtime, open_scope
from tests.support import nothing_written

ROUTE = "/federation/v1/messages"
MY = HubIdentity.generate("MY")  # the pinned peer that sends
XX = HubIdentity.generate("XX")  # a hub nobody pinned
GONE = HubIdentity.generate("GONE")  # a peer pinned, then removed
MARKER = "marker-federation-5521"


@dataclasses.dataclass
class Hub:
    """This hub, FR, as the tests reach it."""

    identity: HubIdentity
    runtime: Runtime
    settings: Settings
    http: httpx.AsyncClient

    def client(self) -> httpx.AsyncClient:
        """A client of a fresh app on the same runtime (its own refusal allowance)."""
        app = create_app(self.settings, runtime=self.runtime)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fr")


async def _pin(runtime: Runtime, peer: HubIdentity) -> None:
    """Pin a peer as `casehub federation peers add` stores it (without its HTTP fetch)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        if await scope.store.peer(peer.hub_id) is None:
            scope.store.add(
                FederationPeerRow(
                    hub_id=peer.hub_id,
                    name=peer.name,
                    url="http://127.0.0.1:9",
                    fingerprint=peer.public.fingerprint(),
                    document=peer.public.document_text,
                    added_at=datetime.now(UTC),
                )
            )


@pytest.fixture(scope="session")
def hub_keyring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keyring holding a hub identity (FR)."""
    path = tmp_path_factory.mktemp("fr") / "keyring.json"
    create_keyring(path)
    add_hub_identity(path, "FR")
    return path


@pytest.fixture(scope="session")
async def hub(runtime: Runtime, settings: Settings, hub_keyring: Path) -> AsyncIterator[Hub]:
    """FR on the engine under test, with MY pinned and GONE pinned then removed."""
    keys = LocalKeyring.load(hub_keyring)
    fr_settings = settings.model_copy(update={"keyring": hub_keyring})
    fr_runtime = dataclasses.replace(runtime, keys=keys, settings=fr_settings)
    for peer in (MY, GONE):
        await _pin(fr_runtime, peer)
    async with open_scope(fr_runtime) as scope:
        gone = await scope.store.peer(GONE.hub_id)
    if gone is not None and gone.removed_at is None:
        await remove_peer(fr_runtime, GONE.hub_id)
    app = create_app(fr_settings, runtime=fr_runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fr") as http:
        yield Hub(keys.hub_identity(), fr_runtime, fr_settings, http)


def _seal(hub: Hub, sender: HubIdentity = MY, **overrides: Any) -> bytes:
    members: dict[str, Any] = {
        "type": "federation.ping",
        "conversation": uuid4(),
        "sequence": 1,
        "payload": {"note": MARKER},
        **overrides,
    }
    recipient = members.pop("recipient", hub.identity.public)
    return seal_envelope(sender, recipient, **members)


async def _post(hub: Hub, body: bytes, **headers: str) -> httpx.Response:
    return await hub.http.post(
        ROUTE, content=body, headers={"content-type": "application/json", **headers}
    )


async def _inbox(runtime: Runtime, message_id: UUID | None = None) -> list[FederationInboxRow]:
    async with open_scope(runtime) as scope:
        statement = select(FederationInboxRow)
        if message_id is not None:
            statement = statement.where(col(FederationInboxRow.message_id) == message_id)
        return list((await scope.store.session.execute(statement)).scalars())


async def _events(runtime: Runtime, action: str, object_id: UUID | None = None) -> list[Any]:
    async with open_scope(runtime) as scope:
        statement = select(AuditEventRow).where(col(AuditEventRow.action) == action)
        if object_id is not None:
            statement = statement.where(col(AuditEventRow.object_id) == object_id)
        rows = await scope.store.session.execute(statement.order_by(col(AuditEventRow.seq)))
        return list(rows.scalars())


async def _counts(runtime: Runtime) -> tuple[int, int, int]:
    """Inbox rows, peer rows, audit events."""
    async with open_scope(runtime) as scope:
        session = scope.store.session
        return (
            await scope.store.count_rows(FederationInboxRow),
            await scope.store.count_rows(FederationPeerRow),
            int(
                (
                    await session.execute(select(func.count()).select_from(AuditEventRow))
                ).scalar_one()
            ),
        )


def _message_id(body: bytes) -> UUID:
    protected = json.loads(body)["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    return UUID(header["id"])


async def test_an_envelope_from_a_pinned_peer_is_accepted_and_acknowledged(hub: Hub) -> None:
    body = _seal(hub)
    response = await _post(hub, body)
    assert response.status_code == 200, response.text
    ack = verify_ack(hub.identity.public, response.content, body)
    assert (ack.id, ack.sender, ack.recipient) == (
        _message_id(body),
        MY.hub_id,
        hub.identity.hub_id,
    )
    [row] = await _inbox(hub.runtime, ack.id)
    assert (row.sender, row.sequence, row.type, row.state) == (
        MY.hub_id,
        1,
        "federation.ping",
        "RECEIVED",
    )
    assert row.envelope == body.decode()
    assert row.digest == digest(body) == ack.envelope
    assert row.ack.encode() == response.content
    assert MARKER not in row.envelope  # the payload stays sealed at rest
    [event] = await _events(hub.runtime, "federation.message_accept", ack.id)
    assert event.outcome == "OK"
    assert event.actor_principal_id is None
    details = json.loads(event.details)
    assert details == {
        "sender": str(MY.hub_id),
        "type": "federation.ping",
        "conversation": str(row.conversation),
        "sequence": 1,
        "envelope": digest(body),
    }
    assert MARKER not in event.details


async def test_the_same_envelope_twice_is_applied_once(hub: Hub) -> None:
    body = _seal(hub)
    first = await _post(hub, body)
    assert first.status_code == 200, first.text
    before = await _counts(hub.runtime)
    again = await _post(hub, body)
    assert again.status_code == 200, again.text
    assert again.content == first.content  # the stored ack, byte for byte
    assert await _counts(hub.runtime) == before  # nothing written, not even an audit event
    assert len(await _inbox(hub.runtime, _message_id(body))) == 1


async def test_the_same_envelope_delivered_concurrently_is_applied_once(hub: Hub) -> None:
    body = _seal(hub)
    answers = await asyncio.gather(*(_post(hub, body) for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4, [a.text for a in answers]
    assert len({answer.content for answer in answers}) == 1
    assert len(await _inbox(hub.runtime, _message_id(body))) == 1
    assert len(await _events(hub.runtime, "federation.message_accept", _message_id(body))) == 1


async def test_concurrent_envelopes_for_one_sequence_are_accepted_once(hub: Hub) -> None:
    conversation = uuid4()
    rivals = [_seal(hub, conversation=conversation, sequence=3) for _ in range(3)]
    answers = await asyncio.gather(*(_post(hub, body) for body in rivals))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"REPLAYED"}
    rows = [row for row in await _inbox(hub.runtime) if row.conversation == conversation]
    [winner] = [body for body, answer in zip(rivals, answers, strict=True) if answer.is_success]
    assert [row.message_id for row in rows] == [_message_id(winner)]


async def test_a_late_retry_of_an_accepted_envelope_still_gets_its_ack(hub: Hub) -> None:
    sent = datetime.now(UTC) - timedelta(seconds=280)
    body = _seal(hub, sent_at=sent)
    first = await _post(hub, body)
    assert first.status_code == 200, first.text
    late = dataclasses.replace(hub.runtime, clock=lambda: sent + timedelta(hours=1))
    async with Hub(hub.identity, late, hub.settings, hub.http).client() as http:
        again = await http.post(ROUTE, content=body)
    assert (again.status_code, again.content) == (200, first.content)


def _swap(body: bytes, **parts: str) -> bytes:
    members = {**json.loads(body), **parts}
    return envelope_bytes(members["protected"], members["sealed"], members["signature"])


def _resign(body: bytes, sender: HubIdentity, **parts: str) -> bytes:
    members = {**json.loads(body), **parts}
    signature = sender.sign(signing_input(members["protected"], members["sealed"]))
    return envelope_bytes(members["protected"], members["sealed"], signature)


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[at] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _edited_header(body: bytes) -> str:
    protected = json.loads(body)["protected"]
    header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    header["sequence"] += 1
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# (case, the envelope, status, code, whether a pinned peer is accountable: always audited)
Forge = Callable[[Hub], bytes]
REFUSALS: list[tuple[str, Forge, int, str, bool]] = [
    ("not JSON", lambda hub: b"{not json", 400, "MALFORMED", False),
    ("an empty body", lambda hub: b"", 400, "MALFORMED", False),
    (
        "another protocol version",
        lambda hub: json.dumps({**json.loads(_seal(hub)), "v": "casehub-federation/2"}).encode(),
        400,
        "UNSUPPORTED_VERSION",
        False,
    ),
    (
        "addressed to another hub",
        lambda hub: _seal(hub, recipient=XX.public),
        400,
        "WRONG_RECIPIENT",
        False,
    ),
    ("from a hub nobody pinned", lambda hub: _seal(hub, sender=XX), 403, "UNKNOWN_HUB", False),
    ("from a removed peer", lambda hub: _seal(hub, sender=GONE), 403, "UNKNOWN_HUB", False),
    (
        "signed with another hub's key",
        lambda hub: _resign(_seal(hub), XX),
        403,
        "BAD_SIGNATURE",
        False,
    ),
    (
        "an edited payload",
        lambda hub: _swap(_seal(hub), sealed=_flip(json.loads(_seal(hub))["sealed"], 1125)),
        403,
        "BAD_SIGNATURE",
        False,
    ),
    (
        "an edited header",
        lambda hub: _swap((body := _seal(hub)), protected=_edited_header(body)),
        403,
        "BAD_SIGNATURE",
        False,
    ),
    (
        "expired",
        lambda hub: _seal(hub, sent_at=datetime.now(UTC) - timedelta(seconds=301)),
        400,
        "OUTSIDE_WINDOW",
        True,
    ),
    (
        "from the future",
        lambda hub: _seal(hub, sent_at=datetime.now(UTC) + timedelta(seconds=301)),
        400,
        "OUTSIDE_WINDOW",
        True,
    ),
    (
        "a sealed part that does not open",
        lambda hub: _resign(
            (body := _seal(hub)), MY, sealed=_flip(json.loads(body)["sealed"], 1125)
        ),
        400,
        "UNREADABLE",
        True,
    ),
    (
        "a header the payload was not sealed under",
        lambda hub: _resign((body := _seal(hub)), MY, protected=_edited_header(body)),
        400,
        "UNREADABLE",
        True,
    ),
    (
        "an unknown type",
        lambda hub: _seal(hub, type="federation.pong"),
        422,
        "UNKNOWN_TYPE",
        True,
    ),
    (
        "a payload its type does not allow",
        lambda hub: _seal(hub, payload={"note": "n" * 201}),
        400,
        "MALFORMED",
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "forge", "status", "code", "accountable"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
async def test_refused_envelopes_get_a_typed_error_and_write_nothing(
    hub: Hub, case: str, forge: Forge, status: int, code: str, accountable: bool
) -> None:
    body = forge(hub)
    inbox, peers, events = await _counts(hub.runtime)
    async with nothing_written(hub.runtime), hub.client() as http:
        response = await http.post(ROUTE, content=body)
    assert response.status_code == status, (case, response.text)
    error = response.json()["error"]
    assert error["code"] == code, case
    assert set(error) == {"code", "message"}
    # Nothing but the one refusal event (a fresh app: its allowance for unsigned junk is full).
    assert await _counts(hub.runtime) == (inbox, peers, events + 1)
    [event] = (await _events(hub.runtime, "federation.message_refuse"))[-1:]
    assert event.outcome == code
    details = json.loads(event.details)
    assert details["code"] == code
    if accountable:
        assert event.object_id == _message_id(body)
        assert details["sender"] == str(MY.hub_id)
        assert details["envelope"] == digest(body)
    else:
        assert event.object_id is None
        assert set(details) == {
            "code",
            "claimedSender",
            "client",
            "leftOut",
        }
    assert MARKER not in event.details


async def test_a_used_message_id_with_another_envelope_is_replayed(hub: Hub) -> None:
    conversation = uuid4()
    body = _seal(hub, conversation=conversation)
    assert (await _post(hub, body)).status_code == 200
    other = _seal(hub, conversation=conversation, message_id=_message_id(body))
    before = await _counts(hub.runtime)
    response = await _post(hub, other)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "REPLAYED")
    inbox, peers, events = await _counts(hub.runtime)
    assert (inbox, peers, events) == (before[0], before[1], before[2] + 1)
    [event] = await _events(hub.runtime, "federation.message_refuse", _message_id(body))
    assert json.loads(event.details)["envelope"] == digest(other)


async def test_a_used_sequence_of_a_conversation_is_replayed(hub: Hub) -> None:
    conversation = uuid4()
    assert (await _post(hub, _seal(hub, conversation=conversation, sequence=7))).status_code == 200
    reused = _seal(hub, conversation=conversation, sequence=7)
    before = await _counts(hub.runtime)
    response = await _post(hub, reused)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "REPLAYED")
    assert (await _counts(hub.runtime))[0] == before[0]
    # Gaps and other conversations are fine; ordering is the outbox's (issue 16 item 4).
    for sequence in (9, 8):
        response = await _post(hub, _seal(hub, conversation=conversation, sequence=sequence))
        assert response.status_code == 200, response.text
    assert (await _post(hub, _seal(hub, sequence=7))).status_code == 200


async def test_an_oversized_body_is_refused_before_it_is_read_whole(hub: Hub) -> None:
    async with nothing_written(hub.runtime):
        declared = await _post(hub, b" " * (ENVELOPE_MAX_BYTES + 1))
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "TOO_LARGE"
        sent = 0

        async def endless() -> AsyncIterator[bytes]:
            nonlocal sent
            while sent < 8 * ENVELOPE_MAX_BYTES:
                sent += 64 * 1024
                yield b" " * (64 * 1024)

        streamed = await hub.http.post(ROUTE, content=endless())  # chunked: no length declared
        assert (streamed.status_code, streamed.json()["error"]["code"]) == (413, "TOO_LARGE")
        assert sent <= ENVELOPE_MAX_BYTES + 128 * 1024  # reading stopped past the bound


async def _raw_post(hub: Hub, messages: list[dict[str, Any]], length: int) -> tuple[int, bytes]:
    """POST through the ASGI interface itself: the body in the given messages, whatever
    length the headers declare."""
    app = create_app(hub.settings, runtime=hub.runtime)
    queue = list(messages)
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": ROUTE,
        "raw_path": ROUTE.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"fr"), (b"content-length", str(length).encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("fr", 80),
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_truncated_body_is_malformed(hub: Hub) -> None:
    body = _seal(hub)
    half = body[: len(body) // 2]
    async with nothing_written(hub.runtime):
        shorter = await _raw_post(hub, [{"type": "http.request", "body": half}], len(body))
        cut = await _raw_post(
            hub, [{"type": "http.request", "body": half, "more_body": True}], len(body)
        )
    for status, answer in (shorter, cut):
        assert (status, json.loads(answer)["error"]["code"]) == (400, "MALFORMED")
    assert await _inbox(hub.runtime, _message_id(body)) == []


async def test_refusals_nobody_signed_are_audited_within_an_allowance(hub: Hub) -> None:
    async with hub.client() as http:
        before = len(await _events(hub.runtime, "federation.message_refuse"))
        for _ in range(70):
            assert (await http.post(ROUTE, content=b"junk")).status_code == 400
        recorded = len(await _events(hub.runtime, "federation.message_refuse")) - before
        assert 60 <= recorded < 70  # the allowance (and what refilled meanwhile)
        await asyncio.sleep(1.1)
        assert (await http.post(ROUTE, content=b"junk")).status_code == 400
    events = (await _events(hub.runtime, "federation.message_refuse"))[before:]
    assert len(events) == recorded + 1
    # Every refusal left out is counted by the next one recorded.
    assert sum(json.loads(event.details)["leftOut"] for event in events) == 70 - recorded


async def test_a_hub_without_identity_accepts_nothing(client: httpx.AsyncClient, hub: Hub) -> None:
    response = await client.post(ROUTE, content=_seal(hub))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FEDERATED"


async def test_only_post_is_allowed(hub: Hub) -> None:
    assert (await hub.http.get(ROUTE)).status_code == 405
