"""Receiving an envelope from a peer hub (docs/FEDERATION.md): every check in the protocol's
order, then the inbox row and its audit event in one transaction, answered with the signed
acknowledgement. The same envelope delivered again is answered with the stored ack and
nothing is written; another envelope under a used message id or sequence is REPLAYED.

Audit: an accepted envelope, and every refusal of an envelope that carries a pinned peer's
valid signature, is an event (the peer is accountable for it). Refusals before that point
come from anyone on the network; they are audited only while a per-process allowance lasts
(RefusalLog), and the next one audited says how many were left out, so a flood of junk cannot
fill the log, yet the log still shows that it happened. Metrics count every refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from casehub.crypto.federation_envelopes import open_envelope, sign_ack, verify_envelope
from casehub.crypto.hub_identity import HubIdentity
from casehub.domain.federation.envelopes import (
    Envelope,
    EnvelopeRefused,
    InboxState,
    RefusalCode,
    digest,
    parse_envelope,
    within_window,
)
from casehub.domain.federation.payloads import check_payload
from casehub.services.audit.trail import AuditEntry, append
from casehub.services.federation.appliers import APPLIERS
from casehub.services.federation.peers import pinned
from casehub.services.ratelimit import RateLimiter
from casehub.services.runtime import Runtime, Scope, open_scope

OBJECT_TYPE = "FederationMessage"
_LOG_KEY = "federation"  # one allowance for the whole process, whoever sends


@dataclass
class RefusalLog:
    """The allowance of audit events for refusals nobody is accountable for, and how many
    were left out since the last one recorded."""

    limiter: RateLimiter
    suppressed: int = 0

    def admit(self) -> int | None:
        """None when the allowance is spent (counted); else how many were left out before."""
        if self.limiter.take(_LOG_KEY):
            self.suppressed += 1
            return None
        left_out, self.suppressed = self.suppressed, 0
        return left_out


class NotFederated(Exception):
    """This hub has no federation identity (`casehub federation init` makes one)."""


class _Taken(Exception):
    """The insert found its message id or sequence taken (a concurrent delivery)."""


def hub_identity(runtime: Runtime) -> HubIdentity:
    """This hub's identity; NotFederated when the keyring has none."""
    if not runtime.keys.has_hub_identity:
        raise NotFederated("This hub has no federation identity.")
    return runtime.keys.hub_identity()


async def refuse_unread(
    runtime: Runtime, refused: EnvelopeRefused, refusals: RefusalLog, client: str | None
) -> None:
    """Record a refusal the transport made before the body was whole (too large, truncated),
    under the same allowance as every refusal nobody is accountable for."""
    async with open_scope(runtime) as scope:
        await _record_refusal(scope, refused, None, b"", False, refusals, client)


async def receive_envelope(
    runtime: Runtime,
    *,
    body: bytes,
    window: timedelta,
    refusals: RefusalLog,
    client: str | None = None,
) -> bytes:
    """Accept an envelope sent to this hub and return the signed ack (the stored one for a
    retry), or raise EnvelopeRefused (audited as the module says), or NotFederated. `body` is
    at most ENVELOPE_MAX_BYTES (the transport stops reading past it)."""
    identity = hub_identity(runtime)
    async with open_scope(runtime) as scope:
        envelope: Envelope | None = None
        authenticated = False
        try:
            envelope = parse_envelope(body)
            header = envelope.header
            if header.recipient != identity.hub_id:
                raise EnvelopeRefused(
                    RefusalCode.WRONG_RECIPIENT, "The envelope is addressed to another hub."
                )
            sender = await pinned(scope.store, header.sender)
            if sender is None:
                raise EnvelopeRefused(RefusalCode.UNKNOWN_HUB, "The sender is not a pinned peer.")
            verify_envelope(sender, envelope)
            authenticated = True
            # Before the window: a retry of an envelope accepted earlier gets its ack even
            # when late (an ack lost on the way must not strand the sender), writing nothing.
            seen = await _seen(scope, envelope, body)
            if seen is not None:
                return seen
            now = scope.now
            if not within_window(header.sent_at, now, window):
                raise EnvelopeRefused(
                    RefusalCode.OUTSIDE_WINDOW,
                    f"sentAt is more than {int(window.total_seconds())} s from this hub's clock.",
                )
            payload = check_payload(header.type, open_envelope(identity, envelope))
            return await _accept(scope, identity, envelope, body, payload)
        except EnvelopeRefused as refused:
            await _record_refusal(scope, refused, envelope, body, authenticated, refusals, client)
            raise


async def _seen(scope: Scope, envelope: Envelope, body: bytes) -> bytes | None:
    """The stored ack when this envelope was accepted before; REPLAYED when its message id
    was accepted with other bytes; None when the id is new."""
    answer = await scope.store.inbox_answer(envelope.header.id)
    await scope.store.end_read()
    if answer is None:
        return None
    stored_digest, ack = answer
    if stored_digest != digest(body):
        raise EnvelopeRefused(
            RefusalCode.REPLAYED, "This message id was accepted with another envelope."
        )
    return ack.encode("ascii")


async def _accept(
    scope: Scope,
    identity: HubIdentity,
    envelope: Envelope,
    body: bytes,
    payload: dict[str, object],
) -> bytes:
    header = envelope.header
    now = scope.now
    received_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the ack's precision
    ack = sign_ack(identity, header, received_at, body)
    envelope_digest = digest(body)
    try:
        async with scope.store.transaction():
            added = await scope.store.add_inbox_message(
                {
                    "message_id": header.id,
                    "sender": header.sender,
                    "conversation": header.conversation,
                    "sequence": header.sequence,
                    "type": header.type,
                    "received_at": received_at,
                    "digest": envelope_digest,
                    "envelope": body.decode("utf-8"),
                    "ack": ack.decode("ascii"),
                    "state": InboxState.RECEIVED.value,
                }
            )
            if not added:
                raise _Taken
            await append(scope, [_entry(envelope, envelope_digest)])
            # applied with the inbox row, so a message is applied once, when
            # it is accepted (a retry or a replay is answered before this point).
            applier = APPLIERS.get(header.type)
            if applier is not None:
                await applier(scope, header, payload)
    except _Taken:
        # Another delivery got there first: the same envelope (a retry racing this one) or
        # another one holding this id or this conversation's sequence.
        seen = await _seen(scope, envelope, body)
        if seen is not None:
            return seen
        raise EnvelopeRefused(
            RefusalCode.REPLAYED,
            f"Sequence {header.sequence} of this conversation was used by another message.",
        ) from None
    return ack


def _entry(envelope: Envelope, envelope_digest: str, code: RefusalCode | None = None) -> AuditEntry:
    header = envelope.header
    details: dict[str, Any] = {
        "sender": str(header.sender),
        "type": header.type,
        "conversation": str(header.conversation),
        "sequence": header.sequence,
        "envelope": envelope_digest,
    }
    if code is None:
        return AuditEntry(
            "federation.message_accept",
            object_type=OBJECT_TYPE,
            object_id=header.id,
            details=details,
        )
    return AuditEntry(
        "federation.message_refuse",
        outcome=code.value,
        object_type=OBJECT_TYPE,
        object_id=header.id,
        details={**details, "code": code.value},
    )


async def _record_refusal(
    scope: Scope,
    refused: EnvelopeRefused,
    envelope: Envelope | None,
    body: bytes,
    authenticated: bool,
    refusals: RefusalLog,
    client: str | None,
) -> None:
    if authenticated:
        assert envelope is not None  # authenticated only once parsed and verified
        entry = _entry(envelope, digest(body), refused.code)
    else:
        left_out = refusals.admit()
        if left_out is None:
            return
        # Nothing here is vouched for by a peer: the claimed sender only, never more.
        details: dict[str, Any] = {
            "code": refused.code.value,
            "claimedSender": None if envelope is None else str(envelope.header.sender),
            "client": client,
            "leftOut": left_out,
        }
        entry = AuditEntry("federation.message_refuse", outcome=refused.code.value, details=details)
    async with scope.store.transaction():
        await append(scope, [entry])
