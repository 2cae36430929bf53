"""Which steps must be signed, the four-eyes rule, statement instants, and a key's standing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from casehub.domain.enums import AgencyKind
from casehub.domain.requests.transitions import Priority, RequestAction
from casehub.domain.signatures import (
    SIGNABLE,
    KeyStanding,
    SignedSteps,
    format_instant,
    key_standing,
    must_sign,
    needs_approval,
    parse_instant,
)

DEFAULT = SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER
PROVIDER = AgencyKind.SERVICE_PROVIDER
POLICE = "LAW_ENFORCEMENT"


def test_policy_values_are_the_setting_values():
    assert [policy.value for policy in SignedSteps] == [
        "emergency-or-service-provider",
        "all",
        "none",
    ]
    assert SignedSteps("all") is SignedSteps.ALL


def test_signable_actions():
    assert frozenset({"SUBMIT", "APPROVE", "ACCEPT", "DECLINE", "FULFIL"}) == SIGNABLE
    assert all(isinstance(action, str) for action in SIGNABLE)


@pytest.mark.parametrize(
    ("policy", "action", "priority", "kind", "signed"),
    [
        # The default: EMERGENCY, or a service provider asked.
        (DEFAULT, "SUBMIT", "EMERGENCY", POLICE, True),
        (DEFAULT, "SUBMIT", "URGENT", PROVIDER, True),
        (DEFAULT, "SUBMIT", "EMERGENCY", PROVIDER, True),
        (DEFAULT, "SUBMIT", "ROUTINE", POLICE, False),
        (DEFAULT, "SUBMIT", "URGENT", POLICE, False),
        (DEFAULT, "ACCEPT", "EMERGENCY", POLICE, True),
        (DEFAULT, "DECLINE", "ROUTINE", PROVIDER, True),
        (DEFAULT, "FULFIL", "ROUTINE", PROVIDER, True),
        (DEFAULT, "FULFIL", "ROUTINE", POLICE, False),
        # APPROVE is the countersignature: always signed.
        (DEFAULT, "APPROVE", "ROUTINE", POLICE, True),
        (SignedSteps.NONE, "APPROVE", "ROUTINE", POLICE, True),
        (SignedSteps.ALL, "APPROVE", "EMERGENCY", PROVIDER, True),
        # all / none.
        (SignedSteps.ALL, "SUBMIT", "ROUTINE", POLICE, True),
        (SignedSteps.ALL, "DECLINE", "ROUTINE", POLICE, True),
        (SignedSteps.NONE, "SUBMIT", "EMERGENCY", PROVIDER, False),
        (SignedSteps.NONE, "FULFIL", "EMERGENCY", PROVIDER, False),
        # Steps that are not signable never need a signature.
        (SignedSteps.ALL, "ACKNOWLEDGE", "EMERGENCY", PROVIDER, False),
        (DEFAULT, "WITHDRAW", "EMERGENCY", PROVIDER, False),
        (DEFAULT, "MESSAGE", "EMERGENCY", PROVIDER, False),
        (DEFAULT, "CREATE", "EMERGENCY", PROVIDER, False),
        (DEFAULT, "CLOSE", "EMERGENCY", PROVIDER, False),
        # Enum members work as their values.
        (DEFAULT, RequestAction.SUBMIT, Priority.EMERGENCY, AgencyKind.LAW_ENFORCEMENT, True),
        (DEFAULT, RequestAction.ACCEPT, Priority.ROUTINE, AgencyKind.LAW_ENFORCEMENT, False),
    ],
)
def test_must_sign(policy, action, priority, kind, signed):
    assert must_sign(policy, action, priority, kind) is signed


@pytest.mark.parametrize(
    ("priority", "kind", "needed"),
    [
        ("EMERGENCY", PROVIDER, True),
        (Priority.EMERGENCY, AgencyKind.SERVICE_PROVIDER, True),
        ("EMERGENCY", POLICE, False),
        ("URGENT", PROVIDER, False),
        ("ROUTINE", PROVIDER, False),
        ("ROUTINE", POLICE, False),
    ],
)
def test_needs_approval(priority, kind, needed):
    assert needs_approval(priority, kind) is needed


# --- instants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 12, 5, 10, 0, 0, 999_999, tzinfo=UTC), "2026-12-05T10:00:00Z"),
        (datetime(2026, 12, 5, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2026-12-04T23:30:00Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    ],
)
def test_format_instant(moment, text):
    assert format_instant(moment) == text
    assert parse_instant(text) == moment.replace(microsecond=0)


def test_format_instant_refuses_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(datetime(2026, 12, 5))


@pytest.mark.parametrize(
    "text",
    [
        None,
        17,
        "",
        "2026-12-05",
        "2026-12-05T10:00:00",
        "2026-12-05T10:00:00z",
        "2026-12-05T10:00:00.5Z",
        "2026-12-05T10:00:00+00:00",
        "2026-12-05 10:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-12-05T24:00:00Z",
        "٢٠٢٦-12-05T10:00:00Z",  # non-ASCII digits
        " 2026-12-05T10:00:00Z",
    ],
)
def test_parse_instant_refuses(text):
    assert parse_instant(text) is None


# --- key standing ----------------------------------------------------------------------------

WINDOW = {"notBefore": "2026-01-01T00:00:00Z", "notAfter": "2027-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("accreditation", "revoked_at", "at", "standing"),
    [
        (WINDOW, None, "2026-06-01T00:00:00Z", KeyStanding.ACCREDITED),
        (WINDOW, None, "2026-01-01T00:00:00Z", KeyStanding.ACCREDITED),  # from notBefore
        (WINDOW, None, "2026-12-31T23:59:59Z", KeyStanding.ACCREDITED),
        (WINDOW, None, "2027-01-01T00:00:00Z", KeyStanding.NOT_ACCREDITED),  # until notAfter
        (WINDOW, None, "2025-12-31T23:59:59Z", KeyStanding.NOT_ACCREDITED),  # not yet valid
        (WINDOW, None, "2030-01-01T00:00:00Z", KeyStanding.NOT_ACCREDITED),  # expired
        (None, None, "2026-06-01T00:00:00Z", KeyStanding.NOT_ACCREDITED),
        # Revoked at or before the moment; a later revocation leaves it accredited.
        (WINDOW, "2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z", KeyStanding.REVOKED),
        (WINDOW, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", KeyStanding.REVOKED),
        (WINDOW, "2026-06-01T00:00:01Z", "2026-06-01T00:00:00Z", KeyStanding.ACCREDITED),
        # A revocation outranks everything else.
        (None, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", KeyStanding.REVOKED),
        (WINDOW, "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", KeyStanding.REVOKED),
        (None, "2026-07-01T00:00:00Z", "2026-06-01T00:00:00Z", KeyStanding.NOT_ACCREDITED),
        # Unreadable instants never make a key look better.
        (WINDOW, "yesterday", "2026-06-01T00:00:00Z", KeyStanding.REVOKED),
        (WINDOW, None, "2026-06-01", KeyStanding.NOT_ACCREDITED),
        ({"notBefore": "2026-01-01T00:00:00Z"}, None, "2026-06-01T00:00:00Z", "NOT_ACCREDITED"),
        ({**WINDOW, "notBefore": 0}, None, "2026-06-01T00:00:00Z", KeyStanding.NOT_ACCREDITED),
    ],
)
def test_key_standing(accreditation, revoked_at, at, standing):
    assert key_standing(accreditation, revoked_at, at) == standing
