"""The federation outbox: messages to peer hubs queued in the transaction of the change they
tell of (so a change and its message commit or vanish together), what an operator sees of
them, and the operator's retry of a dead letter. casehub.services.federation.delivery sends.

A queued payload is checked against its type's rules (casehub.domain.federation.payloads)
before anything is written, and rests sealed to this hub's own key, bound to its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import rfc8785

from casehub.crypto.federation_outbox import seal_to_self
from casehub.domain.errors import Conflict, NotFound, ValidationFailed
from casehub.domain.federation.envelopes import EnvelopeRefused
from casehub.domain.federation.outbox import UNSEEN, OutboxState, self_seal_binding
from casehub.domain.federation.payloads import check_payload
from casehub.domain.federation.peers import UnknownPeer
from casehub.domain.ids import new_id
from casehub.persistence.tables import FederationOutboxRow
from casehub.services.audit.trail import AuditEntry, append
from casehub.services.federation.messages import OBJECT_TYPE, hub_identity
from casehub.services.runtime import Runtime, Scope, open_scope

# Concurrent writers each take the next sequence; one that lost the race tries again. Each
# loss means another message of the conversation committed, so this bounds nothing real.
SEQUENCE_TRIES = 100
LIST_LIMIT = 1000


class PayloadRefused(ValidationFailed):
    """The payload is not what its message type requires (or the type is unknown)."""


class UnknownMessage(NotFound):
    """No queued message has this id."""


class NotDead(Conflict):
    """Only a dead letter can be retried."""


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A queued message as an operator sees it (never its payload)."""

    message_id: UUID
    peer: UUID
    peer_name: str
    peer_removed: bool  # held: not sent while its peer is not pinned
    conversation: UUID
    sequence: int
    type: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error_code: str | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Depth:
    """The outbox's size by state, and the age of its oldest PENDING message."""

    by_state: dict[str, int]
    oldest_pending: timedelta | None


async def enqueue(
    scope: Scope,
    *,
    peer: UUID,
    type: str,  # the header member's name, as seal_envelope has it
    conversation: UUID,
    payload: dict[str, Any],
) -> UUID:
    """Queue a message to a pinned peer inside the caller's transaction (the caller commits
    it with its change); the message id. It takes the next sequence of the peer's
    conversation. PayloadRefused when the payload is not its type's, UnknownPeer when the
    peer is not pinned, NotFederated when this hub has no identity."""
    identity = hub_identity(scope.runtime)
    try:
        check_payload(type, rfc8785.dumps(payload))
    except EnvelopeRefused as refused:
        raise PayloadRefused(refused.message, ["payload"]) from None
    except ValueError:  # not JSON: rfc8785 refuses it
        raise PayloadRefused("The payload is not a JSON object.", ["payload"]) from None
    message_id = new_id()
    binding = self_seal_binding(message_id, peer, conversation, type)
    now = scope.now
    values: dict[str, Any] = {
        "message_id": message_id,
        "peer": peer,
        "conversation": conversation,
        "type": type,
        "payload": seal_to_self(identity, payload, binding),
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    for _ in range(SEQUENCE_TRIES):
        if await scope.store.add_outbox_message(values) is not None:
            return message_id
        if await scope.store.active_peer_document(peer) is None:
            raise UnknownPeer(f"No pinned peer hub has the id {peer}.", ["peer"])
    raise Conflict("Too many messages were queued in this conversation at once; try again.")


def _queued(row: FederationOutboxRow, name: str, removed_at: datetime | None) -> QueuedMessage:
    return QueuedMessage(
        message_id=row.message_id,
        peer=row.peer,
        peer_name=name,
        peer_removed=removed_at is not None,
        conversation=row.conversation,
        sequence=row.sequence,
        type=row.type,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error_code=row.last_error_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


async def list_outbox(
    runtime: Runtime, *, state: OutboxState | None = None, limit: int = LIST_LIMIT
) -> list[QueuedMessage]:
    """Queued messages (of one state when given), oldest first, at most `limit`."""
    async with open_scope(runtime) as scope:
        page = await scope.store.outbox_page(None if state is None else state.value, limit)
        return [_queued(row, name, removed_at) for row, name, removed_at in page]


async def retry_message(runtime: Runtime, message_id: UUID) -> QueuedMessage:
    """Send a dead letter again, an operator's act recorded as federation.outbox_retry: it is
    PENDING and due now, its attempts counted from 0. Its envelope is kept (the peer may hold
    it: the same bytes get the stored ack), unless the peer said it never stored it (then a
    new one is sealed, for the peer's key pinned now). UnknownMessage, or NotDead."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        row = await scope.store.outbox_message(message_id)
        if row is None:
            raise UnknownMessage(f"No queued federation message has the id {message_id}.", ["id"])
        if row.state != OutboxState.DEAD.value:
            raise NotDead(
                f"Message {message_id} is {row.state}: only a DEAD message can be retried.",
                ["id"],
            )
        peer = await scope.store.peer(row.peer)
        assert peer is not None  # a foreign key
        resealed = row.last_error_code in UNSEEN
        row.state, row.attempts, row.next_attempt_at = OutboxState.PENDING.value, 0, scope.now
        if resealed:
            row.envelope = None
        details = {
            "peer": str(row.peer),
            "conversation": str(row.conversation),
            "sequence": row.sequence,
            "type": row.type,
            "lastError": row.last_error_code,
            "resealed": resealed,
        }
        entry = AuditEntry(
            "federation.outbox_retry",
            object_type=OBJECT_TYPE,
            object_id=message_id,
            details=details,
        )
        await append(scope, [entry])
        await scope.store.flush()
        return _queued(row, peer.name, peer.removed_at)


async def outbox_depth(runtime: Runtime) -> Depth:
    """The outbox's size by state (every state named, 0 included) and the age of its oldest
    PENDING message: what the metrics export (two cheap reads)."""
    async with open_scope(runtime) as scope:
        counts, oldest = await scope.store.outbox_depth()
        now = scope.now
    by_state = {state.value: counts.get(state.value, 0) for state in OutboxState}
    return Depth(by_state, None if oldest is None else max(now - oldest, timedelta(0)))
