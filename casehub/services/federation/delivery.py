"""Delivering the federation outbox: each conversation strictly in sequence, each message
until its peer's signed ack, with backoff and a dead letter at the end.

One sender per hub at a time (casehub.persistence.federation.outbox.sender_lock: a session
advisory lock on PostgreSQL, a file lock beside a SQLite database), in rounds: the worker of
`casehub serve` (run_delivery) and an operator's `casehub federation deliver --once` alike.
A round takes the next undelivered message of each conversation that is due, to a peer pinned
now (a removed peer's messages are held, neither sent nor given up), and tries it:

- the envelope is sealed at the first attempt and stored BEFORE it is sent, so every later
  attempt sends the same bytes (a peer that stored them answers with its stored ack);
- 200 with the peer's signed ack of exactly those bytes: DELIVERED, the ack kept; then the
  conversation's next message is due in the same round;
- OUTSIDE_WINDOW (the peer never stored it; the envelope is older than its window): sealed
  again with a fresh sentAt under the same id and sent once more at once;
- a refusal retrying cannot change (casehub.domain.federation.outbox.PERMANENT): DEAD at once;
- anything else (no answer, 5xx, an ack that does not verify): tried again after an
  exponential backoff with full jitter, DEAD once the policy gives up (attempts or age).

A DEAD message holds back the rest of its conversation until an operator retries it.
docs/FEDERATION.md ("Delivery") is the specification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from casehub.config import Settings
from casehub.crypto.federation_envelopes import seal_envelope, verify_ack
from casehub.crypto.federation_outbox import SelfSealBroken, open_from_self
from casehub.crypto.hub_identity import HubIdentity, HubPublicIdentity
from casehub.domain.federation.acks import ACK_MAX_BYTES, AckInvalid
from casehub.domain.federation.backoff import delay
from casehub.domain.federation.envelopes import RefusalCode
from casehub.domain.federation.outbox import (
    ACK_INVALID,
    ERROR_MAX_CHARS,
    SEAL_BROKEN,
    UNREACHABLE,
    DeliveryPolicy,
    Failure,
    OutboxState,
    refusal,
    self_seal_binding,
)
from casehub.persistence.federation.outbox import sender_lock
from casehub.persistence.tables import FederationOutboxRow
from casehub.services.audit.trail import AuditEntry, append
from casehub.services.federation.messages import OBJECT_TYPE, hub_identity
from casehub.services.federation.outbox import Depth, outbox_depth
from casehub.services.federation.peers import pinned
from casehub.services.federation.transport import NoAnswer, post_envelope
from casehub.services.runtime import Runtime, open_scope

log = logging.getLogger("casehub.federation")

# Attempts per round at most (a round then ends, and the worker starts the next at once).
ROUND_LIMIT = 500


class Outcome(StrEnum):
    """What one attempt did to its message."""

    DELIVERED = "DELIVERED"
    RETRY = "RETRY"
    DEAD = "DEAD"
    SKIPPED = "SKIPPED"  # unpinned meanwhile, or another sender touched it first


@dataclass
class Round:
    """One round: whether this process was the sender, and what its attempts did."""

    leader: bool
    outcomes: dict[Outcome, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        """Messages taken up (those skipped included)."""
        return sum(self.outcomes.values())

    def count(self, outcome: Outcome) -> int:
        """Attempts that ended so."""
        return self.outcomes.get(outcome, 0)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """The delivery policy of these settings (CASEHUB_FEDERATION_RETRY_* and _DELIVERY_*)."""
    return DeliveryPolicy(
        base=settings.federation_retry_base_seconds,
        cap=settings.federation_retry_cap_seconds,
        max_attempts=settings.federation_delivery_max_attempts,
        max_age=timedelta(seconds=settings.federation_delivery_max_age_seconds),
        timeout=settings.federation_delivery_timeout_seconds,
    )


async def deliver_once(
    runtime: Runtime,
    *,
    now: datetime | None = None,
    limit: int = ROUND_LIMIT,
    policy: DeliveryPolicy | None = None,
    draw: Callable[[], float] = random.random,
    stop: asyncio.Event | None = None,
) -> Round:
    """One round of delivery (at most `limit` attempts): nothing when another process is the
    sender (leader False). `now` is when messages are due and their retries are scheduled from
    (default: the runtime's clock); envelopes carry the clock's time. Once `stop` is set no
    attempt starts (those under way end, within the policy's timeout). NotFederated when this
    hub has no identity. `policy` defaults to the runtime's settings (delivery_policy)."""
    identity = hub_identity(runtime)
    policy = policy or delivery_policy(runtime.settings)
    moment = now or runtime.clock()
    async with sender_lock(runtime.database) as leader:
        summary = Round(leader)
        if not leader:
            return summary
        gate = asyncio.Semaphore(policy.concurrency)

        async def attempt(row: FederationOutboxRow) -> Outcome:
            async with gate:
                if stop is not None and stop.is_set():
                    return Outcome.SKIPPED
                return await _attempt(runtime, identity, row, policy, moment, draw)

        while summary.attempted < limit and not (stop is not None and stop.is_set()):
            async with open_scope(runtime) as scope:
                due = await scope.store.due_outbox_messages(moment, limit - summary.attempted)
            if not due:
                break
            # Every attempt ends before the round goes on (or fails with the first error).
            results = await asyncio.gather(*(attempt(row) for row in due), return_exceptions=True)
            done = [result for result in results if isinstance(result, Outcome)]
            for outcome in done:
                summary.outcomes[outcome] = summary.count(outcome) + 1
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            if Outcome.DELIVERED not in done:
                break  # nothing new became due behind what was tried
        return summary


async def _attempt(
    runtime: Runtime,
    identity: HubIdentity,
    row: FederationOutboxRow,
    policy: DeliveryPolicy,
    moment: datetime,
    draw: Callable[[], float],
) -> Outcome:
    async with open_scope(runtime) as scope:
        peer = await pinned(scope.store, row.peer)
        peer_row = await scope.store.peer(row.peer)
    if peer is None or peer_row is None:
        return Outcome.SKIPPED
    envelope, fresh = row.envelope, False
    try:
        if envelope is None:
            envelope, fresh = await _seal(runtime, identity, peer, row, None), True
            if envelope is None:
                return Outcome.SKIPPED
        answer = await _send(peer_row.url, peer, envelope, policy)
        if isinstance(answer, Failure) and answer.code == RefusalCode.OUTSIDE_WINDOW and not fresh:
            # The peer never stored it, and these bytes are stale: the same message, sealed now.
            envelope = await _seal(runtime, identity, peer, row, envelope)
            if envelope is None:
                return Outcome.SKIPPED
            answer = await _send(peer_row.url, peer, envelope, policy)
    except SelfSealBroken as broken:
        # Queued under another hub identity (or altered): no attempt can ever send it.
        answer = Failure(SEAL_BROKEN, str(broken), permanent=True)
    return await _settle(runtime, row, envelope, answer, policy, moment, draw)


async def _seal(
    runtime: Runtime,
    identity: HubIdentity,
    peer: HubPublicIdentity,
    row: FederationOutboxRow,
    previous: str | None,
) -> str | None:
    """Seal the message for the peer (sentAt from the clock), and store it in place of
    `previous` before anything is sent; None when another sender changed the row first."""
    binding = self_seal_binding(row.message_id, row.peer, row.conversation, row.type)

    def seal() -> str:  # ML-KEM and ML-DSA work: off the event loop
        payload = open_from_self(identity, row.payload, binding)
        return seal_envelope(
            identity,
            peer,
            type=row.type,
            conversation=row.conversation,
            sequence=row.sequence,
            payload=payload,
            message_id=row.message_id,
            sent_at=runtime.clock(),
        ).decode("ascii")

    envelope = await asyncio.to_thread(seal)
    async with open_scope(runtime) as scope, scope.store.transaction():
        stored = await scope.store.update_outbox_message(
            row.message_id, row.attempts, previous, {"envelope": envelope}
        )
    return envelope if stored else None


async def _send(
    url: str, peer: HubPublicIdentity, envelope: str, policy: DeliveryPolicy
) -> str | Failure:
    """The peer's ack text when it acknowledged exactly these bytes, else why not."""
    body = envelope.encode("ascii")
    try:
        answer = await post_envelope(url, body, max_bytes=ACK_MAX_BYTES, seconds=policy.timeout)
    except NoAnswer as error:
        return Failure(UNREACHABLE, str(error))
    if answer.status != 200:
        return refusal(answer.status, answer.body)
    try:
        await asyncio.to_thread(verify_ack, peer, answer.body, body)
    except AckInvalid as error:
        return Failure(ACK_INVALID, str(error))
    return answer.body.decode("ascii")


async def _settle(
    runtime: Runtime,
    row: FederationOutboxRow,
    envelope: str | None,
    answer: str | Failure,
    policy: DeliveryPolicy,
    moment: datetime,
    draw: Callable[[], float],
) -> Outcome:
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if isinstance(answer, str):
        outcome = Outcome.DELIVERED
        values |= {"state": outcome.value, "ack": answer, "delivered_at": runtime.clock()}
    else:
        message = answer.message
        if answer.permanent:
            outcome = Outcome.DEAD
        elif policy.gives_up(attempts, moment - row.created_at):
            outcome = Outcome.DEAD
            message = f"Gave up after {attempts} attempts: {message}"
        else:
            outcome = Outcome.RETRY
            wait = delay(attempts, base=policy.base, cap=policy.cap, draw=draw())
            values["next_attempt_at"] = moment + wait
        values |= {"last_error_code": answer.code, "last_error": message[:ERROR_MAX_CHARS]}
        if outcome is Outcome.DEAD:
            values["state"] = OutboxState.DEAD.value
    async with open_scope(runtime) as scope, scope.store.transaction():
        if not await scope.store.update_outbox_message(
            row.message_id, row.attempts, envelope, values
        ):
            return Outcome.SKIPPED
        if outcome is Outcome.DEAD:
            details = {
                "peer": str(row.peer),
                "conversation": str(row.conversation),
                "sequence": row.sequence,
                "type": row.type,
                "attempts": attempts,
                "code": values["last_error_code"],
            }
            entry = AuditEntry(
                "federation.message_dead",
                outcome=str(values["last_error_code"]),
                object_type=OBJECT_TYPE,
                object_id=row.message_id,
                details=details,
            )
            await append(scope, [entry])
    return outcome


async def run_delivery(
    runtime: Runtime,
    every_seconds: float,
    stop: asyncio.Event,
    *,
    policy: DeliveryPolicy | None = None,
    observe: Callable[[Depth], None] | None = None,
) -> None:
    """Deliver every `every_seconds` until `stop` is set (at once again after a full round);
    with several replicas, whichever holds the sender lock in a round sends. `observe` gets
    the outbox's depth after each round (every replica: the metrics). A hub without a
    federation identity does nothing.

    A round is never cancelled halfway (see casehub.services.audit.log.run_sequencer): the
    caller sets `stop`, no attempt starts after it, and the caller waits for the task (at
    most the policy's timeout for the attempts under way)."""
    failing: str | None = None
    while not stop.is_set():
        full = False
        try:
            if runtime.keys.has_hub_identity:
                done = await deliver_once(runtime, policy=policy, stop=stop)
                full = done.attempted >= ROUND_LIMIT
                if observe is not None:
                    observe(await outbox_depth(runtime))
        except Exception as error:
            # A lost database or a broken keyring: said when it starts (not every round).
            if repr(error) != failing:
                log.exception(
                    "federation delivery round failed; retrying every %s s", every_seconds
                )
            failing = repr(error)
        else:
            if failing is not None:
                log.info("federation delivery recovered")
            failing = None
        if full:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
