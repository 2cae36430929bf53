"""The delivery backoff (casehub.domain.federation.backoff) and the outbox rules
(casehub.domain.federation.outbox) as tables, and a queued payload sealed to this hub."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from casehub.crypto.federation_outbox import SelfSealBroken, open_from_self, seal_to_self
from casehub.crypto.hub_identity import HubIdentity
from casehub.domain.federation.backoff import ceiling, delay
from casehub.domain.federation.envelopes import RefusalCode
from casehub.domain.federation.outbox import (
    PERMANENT,
    TRANSIENT,
    UNSEEN,
    DeliveryPolicy,
    Failure,
    refusal,
    self_seal_binding,
)

# (attempts, base, cap, the longest wait in seconds)
CEILINGS = [
    (1, 1.0, 600.0, 1.0),
    (2, 1.0, 600.0, 2.0),
    (3, 1.0, 600.0, 4.0),
    (10, 1.0, 600.0, 512.0),
    (11, 1.0, 600.0, 600.0),  # the cap
    (500, 1.0, 600.0, 600.0),
    (10_000, 1.0, 600.0, 600.0),  # no overflow however many attempts
    (1, 0.05, 1.0, 0.05),
    (4, 0.05, 1.0, 0.4),
    (6, 0.05, 1.0, 1.0),
    (3, 5.0, 5.0, 5.0),  # base == cap: no growth
]


@pytest.mark.parametrize(("attempts", "base", "cap", "expected"), CEILINGS)
def test_the_ceiling_doubles_from_base_up_to_cap(attempts, base, cap, expected):
    assert ceiling(attempts, base=base, cap=cap) == pytest.approx(expected)


# (attempts, draw, the wait): full jitter, anywhere from 0 to the ceiling.
DELAYS = [
    (1, 0.0, 0.0),
    (1, 0.5, 0.5),
    (3, 0.25, 1.0),
    (3, 0.999, 3.996),
    (20, 0.5, 300.0),
]


@pytest.mark.parametrize(("attempts", "draw", "seconds"), DELAYS)
def test_the_delay_is_the_draw_times_the_ceiling(attempts, draw, seconds):
    wait = delay(attempts, base=1.0, cap=600.0, draw=draw)
    assert wait.total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("attempts", "base", "cap", "draw"),
    [
        (0, 1.0, 10.0, 0.5),
        (-1, 1.0, 10.0, 0.5),
        (1, 0.0, 10.0, 0.5),
        (1, 10.0, 1.0, 0.5),
        (1, 1.0, 10.0, 1.0),
        (1, 1.0, 10.0, -0.1),
    ],
)
def test_out_of_range_arguments_are_refused(attempts, base, cap, draw):
    with pytest.raises(ValueError, match=r"attempt|base|draw"):
        delay(attempts, base=base, cap=cap, draw=draw)


# (attempts, age, gives up) under max_attempts 5, max_age 1 hour
GIVES_UP = [
    (1, timedelta(0), False),
    (4, timedelta(minutes=59), False),
    (5, timedelta(0), True),
    (1, timedelta(hours=1), True),
    (6, timedelta(hours=2), True),
]


@pytest.mark.parametrize(("attempts", "age", "expected"), GIVES_UP)
def test_the_policy_gives_up_after_attempts_or_age(attempts, age, expected):
    policy = DeliveryPolicy(max_attempts=5, max_age=timedelta(hours=1))
    assert policy.gives_up(attempts, age) is expected


def _refusal(code: str, message: str = "why") -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


# (status, body, code, permanent)
ANSWERS = [
    (403, _refusal("UNKNOWN_HUB"), "UNKNOWN_HUB", False),  # not pinned back yet: retried
    (403, _refusal("BAD_SIGNATURE"), "BAD_SIGNATURE", True),
    (400, _refusal("UNREADABLE"), "UNREADABLE", True),
    (422, _refusal("UNKNOWN_TYPE"), "UNKNOWN_TYPE", True),
    (400, _refusal("MALFORMED"), "MALFORMED", True),
    (400, _refusal("WRONG_RECIPIENT"), "WRONG_RECIPIENT", True),
    (409, _refusal("REPLAYED"), "REPLAYED", True),
    (413, _refusal("TOO_LARGE"), "TOO_LARGE", True),
    (400, _refusal("UNSUPPORTED_VERSION"), "UNSUPPORTED_VERSION", True),
    (400, _refusal("OUTSIDE_WINDOW"), "OUTSIDE_WINDOW", False),  # re-sealed, not dead
    (404, _refusal("NOT_FEDERATED"), "NOT_FEDERATED", False),  # the peer lost its keyring
    (503, _refusal("SERVICE_UNAVAILABLE"), "SERVICE_UNAVAILABLE", False),
    (503, b"<html>bad gateway</html>", "HTTP_503", False),
    (500, b"", "HTTP_500", False),
    (302, b"", "HTTP_302", False),
    (400, b'{"error": "flat"}', "HTTP_400", False),
    (400, b'{"error": {"code": 7}}', "HTTP_400", False),
    (400, _refusal("lowercase"), "HTTP_400", False),
    (400, b"\xff\xfe", "HTTP_400", False),
]


@pytest.mark.parametrize(("status", "body", "code", "permanent"), ANSWERS)
def test_what_an_answer_means(status, body, code, permanent):
    failure = refusal(status, body)
    assert failure == Failure(failure.code, failure.message, permanent)
    assert (failure.code, failure.permanent) == (code, permanent)


def test_every_refusal_code_is_permanent_known_unseen_or_transient():
    for code in RefusalCode:
        assert (code in PERMANENT) or (code in UNSEEN) or (code in TRANSIENT), code
    assert not TRANSIENT & (PERMANENT | UNSEEN)
    assert RefusalCode.OUTSIDE_WINDOW not in PERMANENT


def test_a_refusal_code_from_a_peer_is_bounded():
    assert len(refusal(400, _refusal("X" * 10_000)).code) == 32


MY = HubIdentity.generate("MY")
OTHER = HubIdentity.generate("OTHER")


def test_a_queued_payload_opens_only_with_this_hub_and_its_own_row():
    message, peer, conversation = uuid4(), uuid4(), uuid4()
    binding = self_seal_binding(message, peer, conversation, "federation.ping")
    sealed = seal_to_self(MY, {"note": "marker-outbox-77"}, binding)
    assert b"marker-outbox-77" not in sealed
    assert open_from_self(MY, sealed, binding) == {"note": "marker-outbox-77"}
    moved = [
        self_seal_binding(uuid4(), peer, conversation, "federation.ping"),
        self_seal_binding(message, uuid4(), conversation, "federation.ping"),
        self_seal_binding(message, peer, uuid4(), "federation.ping"),
        self_seal_binding(message, peer, conversation, "federation.other"),
    ]
    for other in moved:
        with pytest.raises(SelfSealBroken):
            open_from_self(MY, sealed, other)
    with pytest.raises(SelfSealBroken):
        open_from_self(OTHER, sealed, binding)
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(SelfSealBroken):
        open_from_self(MY, bytes(flipped), binding)
