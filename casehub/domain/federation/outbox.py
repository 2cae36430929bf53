"""The sending side of federation (pure): outbox states, what a peer's answer means for a
message, when the sender gives up, and what binds a queued payload to its row.

docs/FEDERATION.md ("Delivery") is the specification. A message is PENDING until the peer
acknowledges it (DELIVERED) or the sender gives up on it (DEAD: a refusal that retrying cannot
change, or too many attempts, or too old). Only DEAD goes back to PENDING, by an operator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import rfc8785

from casehub.domain.federation.envelopes import PROTOCOL, RefusalCode

# What a queued payload's self-sealing binds (HPKE info): the row it belongs to.
SELF_SEAL_CONTEXT = f"{PROTOCOL} outbox".encode("ascii") + b"\x00"
ERROR_MAX_CHARS = 500
# A refusal's body is a small JSON object; more is not read.
ANSWER_MAX_BYTES = 16 * 1024


class OutboxState(StrEnum):
    """Where a queued message stands."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


# A refusal retried as it is, with backoff: the peer has not pinned this hub (yet). In the
# peering runbook one hub pins the other first and may send before it is pinned back, and a
# peer that paused this hub (unpinned it) may pin it again; the policy gives up in the end.
TRANSIENT: frozenset[str] = frozenset({RefusalCode.UNKNOWN_HUB})
# Refusals the same envelope will always get: a bug, a version mismatch, or keys that only
# the operators can fix. Retrying them would only fill the peer's audit log.
PERMANENT: frozenset[str] = frozenset(
    {
        RefusalCode.BAD_SIGNATURE,
        RefusalCode.UNREADABLE,
        RefusalCode.UNKNOWN_TYPE,
        RefusalCode.MALFORMED,
        RefusalCode.WRONG_RECIPIENT,
        RefusalCode.REPLAYED,
        RefusalCode.TOO_LARGE,
        RefusalCode.UNSUPPORTED_VERSION,
    }
)
# Refusals a receiver answers only after it found the message id unseen (checks 9 to 13 of
# docs/FEDERATION.md): the peer never stored this id, so a new envelope under it (new sentAt,
# the peer's current sealing key) cannot clash with one it holds.
UNSEEN: frozenset[str] = frozenset(
    {RefusalCode.OUTSIDE_WINDOW, RefusalCode.UNREADABLE, RefusalCode.UNKNOWN_TYPE}
)

# Codes of failures that are not a peer's refusal.
UNREACHABLE = "UNREACHABLE"  # no answer: refused connection, timeout, reset
ACK_INVALID = "ACK_INVALID"  # 200, but not a signed ack of the envelope sent
HTTP_PREFIX = "HTTP_"  # another answer: HTTP_503, HTTP_404 ...
SEAL_BROKEN = "SEAL_BROKEN"  # the queued payload does not open with this hub's key


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt did not deliver: a code (a peer's refusal code, or one of the above),
    a message for the operator, and whether retrying can help."""

    code: str
    message: str
    permanent: bool = False


def refusal(status: int, body: bytes) -> Failure:
    """What a non-200 answer means: the peer's typed refusal when the body is one
    ({"error": {"code", "message"}}), otherwise the HTTP status (retried: a proxy's 502, a
    hub without an identity yet, a peer restarting)."""
    try:
        error = json.loads(body[:ANSWER_MAX_BYTES].decode("utf-8"))["error"]
        code, message = error["code"], error.get("message", "")
    except (ValueError, TypeError, KeyError, AttributeError):
        return Failure(f"{HTTP_PREFIX}{status}", f"The peer answered HTTP {status}.")
    if not isinstance(code, str) or not isinstance(message, str):
        return Failure(f"{HTTP_PREFIX}{status}", f"The peer answered HTTP {status}.")
    code = code[:32]
    if code in PERMANENT or code in UNSEEN:
        return Failure(code, f"{code}: {message}", permanent=code in PERMANENT)
    return Failure(code if code.isupper() else f"{HTTP_PREFIX}{status}", f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard the sender tries: the backoff (seconds), the bounds after which a message is
    DEAD, the wait for one answer, and how many conversations are sent to at once."""

    base: float = 1.0
    cap: float = 600.0
    max_attempts: int = 500
    max_age: timedelta = timedelta(days=3)
    timeout: float = 10.0
    concurrency: int = 8

    def gives_up(self, attempts: int, age: timedelta) -> bool:
        """Whether a message that failed its `attempts`-th attempt, queued `age` ago, is DEAD."""
        return attempts >= self.max_attempts or age >= self.max_age


def self_seal_binding(message_id: UUID, peer: UUID, conversation: UUID, message_type: str) -> bytes:
    """HPKE info of a payload sealed to this hub while it waits in the outbox: it opens only
    for the row it was queued as (a ciphertext copied to another row does not)."""
    members: Mapping[str, str] = {
        "id": str(message_id),
        "peer": str(peer),
        "conversation": str(conversation),
        "type": message_type,
    }
    return SELF_SEAL_CONTEXT + rfc8785.dumps(dict(members))
