"""What an agency administrator sees of an audit event: whose names, which details."""

from __future__ import annotations

from uuid import UUID

import pytest

from casehub.domain.audit.access import SHOWN_DETAILS, actor_name_shown, shown_details

OURS = UUID("01900000-0000-7000-8000-000000000001")
PARTNER = UUID("01900000-0000-7000-8000-000000000002")


@pytest.mark.parametrize(
    ("actor_agency", "shown"),
    [
        (OURS, True),  # our own principal: named
        (PARTNER, False),  # another agency that read our evidence: by agency only
        (None, False),  # an operator at the command line, or a failed log-in
    ],
)
def test_actor_names_are_shown_only_for_our_own_principals(actor_agency, shown):
    assert actor_name_shown(OURS, actor_agency) is shown


# Every detail key the services write today, and whether an administrator sees it.
DETAILS: list[tuple[str, object, bool]] = [
    ("from", "SUBMITTED", True),
    ("to", "ACCEPTED", True),
    ("roles", ["READER"], True),
    ("receipts", 7, True),
    ("identifiers", 3, True),
    ("sizeBytes", 1024, True),
    ("hasContent", True, True),
    ("action", "SEALED", True),
    ("scope", "FULL", True),
    ("fields", ["summary", "title"], True),
    ("hold", True, True),
    ("wrapsDestroyed", 2, True),
    ("sharesRevoked", 1, True),
    ("code", "MY-PDRM", True),
    ("kinds", ["PHONE", "CRYPTO_WALLET"], True),
    ("identifiersWithHits", 1, True),
    ("agenciesNotified", 2, True),
    ("matchable", False, True),
    ("reason", "free text that may name a suspect", False),
    ("client", "203.0.113.7", False),
    ("principal", "analyst-7", False),
    ("caseId", str(OURS), False),
    ("evidenceId", str(OURS), False),
    ("shareId", str(OURS), False),
    ("agencyId", str(PARTNER), False),
    ("objects", [{"type": "Case", "id": str(OURS), "fields": ["summary"]}], False),
    ("something-new", "unknown keys stay hidden until allow-listed", False),
]


@pytest.mark.parametrize(("key", "value", "shown"), DETAILS)
def test_details_are_shown_by_allow_listed_key(key, value, shown):
    assert shown_details({key: value}) == ({key: value} if shown else {})


def test_the_allow_list_is_exactly_the_shown_keys_of_the_table():
    assert {key for key, _value, shown in DETAILS if shown} == SHOWN_DETAILS


def test_details_keep_shown_keys_and_drop_the_rest_at_once():
    details = {key: value for key, value, _shown in DETAILS}
    assert shown_details(details) == {key: value for key, value, shown in DETAILS if shown}
