"""Access policy: who sees a case, at which level, and which roles may act on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from casehub.domain.cases.policy import (
    Action,
    Attachment,
    Decision,
    RequestLink,
    ShareGrant,
    case_access,
    decide,
    evidence_access,
    reads_attached,
)
from casehub.domain.enums import Access, Role, ShareScope, Tlp
from casehub.domain.requests.transitions import RequestStatus

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OWNER = UUID("00000000-0000-7000-8000-000000000001")
VIEWER = UUID("00000000-0000-7000-8000-000000000002")
OTHER = UUID("00000000-0000-7000-8000-000000000003")

AGENCY_ROLES = frozenset(
    {Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN, Role.SUPERVISOR}
)

A, F, N = Decision.ALLOW, Decision.FORBIDDEN, Decision.NOT_FOUND


def grant(scope, *, agency=VIEWER, expires=None, revoked=None):
    return ShareGrant(agency_id=agency, scope=scope, expires_at=expires, revoked_at=revoked)


# Viewer situation -> (owner agency, grants held on the case).
SITUATIONS = {
    "owner": (VIEWER, []),
    "full_share": (OWNER, [grant(ShareScope.FULL)]),
    "metadata_share": (OWNER, [grant(ShareScope.METADATA)]),
    "expired_share": (OWNER, [grant(ShareScope.FULL, expires=NOW - timedelta(seconds=1))]),
    "revoked_share": (OWNER, [grant(ShareScope.FULL, revoked=NOW - timedelta(days=1))]),
    "unrelated": (OWNER, [grant(ShareScope.FULL, agency=OTHER)]),
}

# Expected decision for a principal holding every agency role, written out by hand.
#                       owner  FULL  META  expired revoked unrelated
EXPECTED = {
    Action.VIEW: (A, A, A, N, N, N),
    Action.READ_PROTECTED: (A, A, F, N, N, N),
    Action.UPDATE_CASE: (A, F, F, N, N, N),
    Action.ADD_SUBJECT: (A, F, F, N, N, N),
    Action.ADD_EVIDENCE: (A, F, F, N, N, N),
    Action.RECORD_CUSTODY: (A, A, F, N, N, N),
    Action.SHARE_CASE: (A, F, F, N, N, N),
    Action.REVOKE_SHARE: (A, F, F, N, N, N),
    Action.LIST_SHARES: (A, F, F, N, N, N),
    Action.SET_LEGAL_HOLD: (A, F, F, N, N, N),
    Action.SHRED_CASE: (A, F, F, N, N, N),
}
SITUATION_ORDER = [
    "owner",
    "full_share",
    "metadata_share",
    "expired_share",
    "revoked_share",
    "unrelated",
]
EXPECTED_ACCESS = {
    "owner": Access.OWNER,
    "full_share": Access.FULL,
    "metadata_share": Access.METADATA,
    "expired_share": None,
    "revoked_share": None,
    "unrelated": None,
}


def test_expected_table_covers_every_action():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("situation", SITUATION_ORDER)
def test_case_access_per_situation(situation):
    owner, grants = SITUATIONS[situation]
    got = case_access(
        viewer_agency_id=VIEWER, owner_agency_id=owner, grants=grants, now=NOW, tlp=Tlp.AMBER
    )
    assert got is EXPECTED_ACCESS[situation]


@pytest.mark.parametrize(
    ("situation", "action", "expected"),
    [
        (situation, action, EXPECTED[action][i])
        for action in Action
        for i, situation in enumerate(SITUATION_ORDER)
    ],
)
@pytest.mark.parametrize(
    "roles", [AGENCY_ROLES, frozenset(Role)], ids=["agency_roles", "all_roles"]
)
def test_decision_per_situation_and_action(situation, action, expected, roles):
    owner, grants = SITUATIONS[situation]
    access = case_access(
        viewer_agency_id=VIEWER, owner_agency_id=owner, grants=grants, now=NOW, tlp=Tlp.AMBER
    )
    assert decide(action, access, roles) is expected


# For each action: which single role is enough, at each access level (hand-written).
_ANY = {Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN, Role.SUPERVISOR}
_INV = {Role.INVESTIGATOR}
_ADM = {Role.AGENCY_ADMIN}
SINGLE_ROLE_ALLOWED = {
    #                        OWNER                       FULL   METADATA
    Action.VIEW: (_ANY, _ANY, _ANY),
    Action.READ_PROTECTED: (_ANY, _ANY, set()),
    Action.UPDATE_CASE: (_INV, set(), set()),
    Action.ADD_SUBJECT: (_INV, set(), set()),
    Action.ADD_EVIDENCE: (_INV, set(), set()),
    Action.RECORD_CUSTODY: (_INV, _INV, set()),
    Action.SHARE_CASE: (_ADM, set(), set()),
    Action.REVOKE_SHARE: (_ADM, set(), set()),
    Action.LIST_SHARES: ({Role.AGENCY_ADMIN, Role.INVESTIGATOR}, set(), set()),
    Action.SET_LEGAL_HOLD: (_ADM, set(), set()),
    Action.SHRED_CASE: (_ADM, set(), set()),
}
LEVELS = (Access.OWNER, Access.FULL, Access.METADATA)


@pytest.mark.parametrize(
    ("action", "access", "role", "expected"),
    [
        (action, access, role, A if role in SINGLE_ROLE_ALLOWED[action][i] else F)
        for action in Action
        for i, access in enumerate(LEVELS)
        for role in Role
    ],
)
def test_single_role_gating(action, access, role, expected):
    assert decide(action, access, {role}) is expected


@pytest.mark.parametrize(
    ("action", "access", "roles", "expected"),
    [
        (Action.UPDATE_CASE, Access.OWNER, {Role.READER}, F),
        (Action.UPDATE_CASE, Access.OWNER, {Role.READER, Role.LIAISON_OFFICER}, F),
        (Action.UPDATE_CASE, Access.OWNER, {Role.READER, Role.INVESTIGATOR}, A),
        (Action.SHARE_CASE, Access.OWNER, {Role.INVESTIGATOR}, F),
        (Action.SHARE_CASE, Access.OWNER, {Role.INVESTIGATOR, Role.LIAISON_OFFICER}, F),
        (Action.SHARE_CASE, Access.OWNER, {Role.AGENCY_ADMIN}, A),
        (Action.SHARE_CASE, Access.FULL, {Role.AGENCY_ADMIN}, F),
        (Action.REVOKE_SHARE, Access.FULL, set(AGENCY_ROLES), F),
        (Action.ADD_EVIDENCE, Access.OWNER, {Role.AGENCY_ADMIN}, F),
        (Action.ADD_EVIDENCE, Access.OWNER, {Role.INVESTIGATOR}, A),
        (Action.ADD_EVIDENCE, Access.FULL, {Role.INVESTIGATOR}, F),
        (Action.RECORD_CUSTODY, Access.FULL, {Role.INVESTIGATOR}, A),
        (Action.RECORD_CUSTODY, Access.FULL, {Role.READER}, F),
        (Action.RECORD_CUSTODY, Access.METADATA, {Role.INVESTIGATOR}, F),
        (Action.READ_PROTECTED, Access.METADATA, set(AGENCY_ROLES), F),
        (Action.READ_PROTECTED, Access.FULL, {Role.READER}, A),
        (Action.VIEW, Access.METADATA, {Role.READER}, A),
        (Action.LIST_SHARES, Access.OWNER, {Role.READER}, F),
        (Action.LIST_SHARES, Access.FULL, {Role.AGENCY_ADMIN}, F),
        (Action.SHRED_CASE, Access.OWNER, {Role.INVESTIGATOR}, F),
        (Action.SHRED_CASE, Access.OWNER, {Role.AGENCY_ADMIN}, A),
        (Action.SHRED_CASE, Access.FULL, set(AGENCY_ROLES), F),
        (Action.SET_LEGAL_HOLD, Access.OWNER, {Role.INVESTIGATOR, Role.READER}, F),
        (Action.SET_LEGAL_HOLD, Access.OWNER, {Role.AGENCY_ADMIN}, A),
        (Action.SET_LEGAL_HOLD, Access.FULL, {Role.AGENCY_ADMIN}, F),
    ],
)
def test_role_gating_examples(action, access, roles, expected):
    assert decide(action, access, roles) is expected


@pytest.mark.parametrize("access", [*LEVELS, None])
@pytest.mark.parametrize("action", list(Action))
def test_hub_admin_alone_can_do_nothing_on_a_case(action, access):
    expected = N if access is None else F
    assert decide(action, access, {Role.HUB_ADMIN}) is expected


@pytest.mark.parametrize("access", [*LEVELS, None])
@pytest.mark.parametrize("action", list(Action))
def test_no_roles_can_do_nothing(action, access):
    expected = N if access is None else F
    assert decide(action, access, []) is expected


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("roles", [set(), {Role.READER}, set(Role)], ids=["none", "reader", "all"])
def test_invisible_case_is_not_found_whatever_the_roles(action, roles):
    assert decide(action, None, roles) is N


def test_decide_accepts_a_one_shot_iterable_of_roles():
    assert decide(Action.UPDATE_CASE, Access.OWNER, iter([Role.INVESTIGATOR])) is A


T = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        pytest.param([], None, id="no_grants"),
        pytest.param([grant(ShareScope.METADATA), grant(ShareScope.FULL)], Access.FULL, id="M+F"),
        pytest.param([grant(ShareScope.FULL), grant(ShareScope.METADATA)], Access.FULL, id="F+M"),
        pytest.param(
            [grant(ShareScope.METADATA), grant(ShareScope.METADATA)], Access.METADATA, id="M+M"
        ),
        pytest.param(
            [grant(ShareScope.FULL, revoked=NOW - T), grant(ShareScope.METADATA)],
            Access.METADATA,
            id="revoked_F+M",
        ),
        pytest.param(
            [grant(ShareScope.METADATA), grant(ShareScope.FULL, expires=NOW - T)],
            Access.METADATA,
            id="M+expired_F",
        ),
        pytest.param(
            [grant(ShareScope.FULL, agency=OTHER), grant(ShareScope.METADATA)],
            Access.METADATA,
            id="other_agency_F+M",
        ),
        pytest.param([grant(ShareScope.FULL, expires=NOW)], None, id="expires_exactly_now"),
        pytest.param(
            [grant(ShareScope.FULL, expires=NOW + T)], Access.FULL, id="expires_one_second_later"
        ),
        pytest.param(
            [grant(ShareScope.FULL, expires=NOW + timedelta(microseconds=1))],
            Access.FULL,
            id="expires_one_microsecond_later",
        ),
        pytest.param([grant(ShareScope.FULL, revoked=NOW)], None, id="revoked_now"),
        pytest.param(
            [grant(ShareScope.FULL, revoked=NOW + T)], None, id="revoked_timestamp_in_future"
        ),
        pytest.param(
            [grant(ShareScope.FULL, expires=NOW + T, revoked=NOW - T)], None, id="revoked_unexpired"
        ),
    ],
)
def test_case_access_with_grants(grants, expected):
    got = case_access(
        viewer_agency_id=VIEWER, owner_agency_id=OWNER, grants=grants, now=NOW, tlp=Tlp.AMBER
    )
    assert got is expected


def test_owner_is_owner_even_with_a_grant_to_itself():
    grants = [grant(ShareScope.METADATA, agency=OWNER)]
    got = case_access(
        viewer_agency_id=OWNER, owner_agency_id=OWNER, grants=grants, now=NOW, tlp=Tlp.AMBER
    )
    assert got is Access.OWNER


def test_case_access_accepts_a_generator():
    grants = (g for g in [grant(ShareScope.METADATA), grant(ShareScope.FULL)])
    got = case_access(
        viewer_agency_id=VIEWER, owner_agency_id=OWNER, grants=grants, now=NOW, tlp=Tlp.AMBER
    )
    assert got is Access.FULL


@pytest.mark.parametrize(
    ("expires", "revoked", "active"),
    [
        (None, None, True),
        (NOW + T, None, True),
        (NOW, None, False),
        (NOW - T, None, False),
        (None, NOW - T, False),
        (None, NOW + T, False),
        (NOW + T, NOW - T, False),
    ],
)
def test_share_grant_is_active(expires, revoked, active):
    assert grant(ShareScope.FULL, expires=expires, revoked=revoked).is_active(NOW) is active


@pytest.mark.parametrize(
    ("access", "decrypts"),
    [(Access.OWNER, True), (Access.FULL, True), (Access.METADATA, False)],
)
def test_access_decrypts(access, decrypts):
    assert access.decrypts is decrypts


# A case linked to a request: the requested agency reads its clear fields while the request is
# handled (SUBMITTED through PARTIALLY_FULFILLED) and never as a draft or after it ends.
LINK_TABLE = [
    (RequestStatus.DRAFT, None),
    (RequestStatus.SUBMITTED, Access.METADATA),
    (RequestStatus.ACKNOWLEDGED, Access.METADATA),
    (RequestStatus.ACCEPTED, Access.METADATA),
    (RequestStatus.FULFILLED, Access.METADATA),
    (RequestStatus.PARTIALLY_FULFILLED, Access.METADATA),
    (RequestStatus.DECLINED, None),
    (RequestStatus.WITHDRAWN, None),
    (RequestStatus.CLOSED, None),
]


@pytest.mark.parametrize(("status", "expected"), LINK_TABLE)
def test_request_link_gives_metadata_while_handled(status, expected):
    links = [RequestLink(requested_agency_id=VIEWER, status=status)]
    got = case_access(
        viewer_agency_id=VIEWER,
        owner_agency_id=OWNER,
        grants=[],
        now=NOW,
        tlp=Tlp.AMBER,
        links=links,
    )
    assert got is expected


@pytest.mark.parametrize(("status", "_expected"), LINK_TABLE)
def test_request_link_to_another_agency_gives_nothing(status, _expected):
    links = [RequestLink(requested_agency_id=OTHER, status=status)]
    got = case_access(
        viewer_agency_id=VIEWER,
        owner_agency_id=OWNER,
        grants=[],
        now=NOW,
        tlp=Tlp.AMBER,
        links=links,
    )
    assert got is None


def test_full_share_beats_a_request_link():
    grants = [ShareGrant(VIEWER, ShareScope.FULL, None, None)]
    links = [RequestLink(requested_agency_id=VIEWER, status=RequestStatus.ACCEPTED)]
    got = case_access(
        viewer_agency_id=VIEWER,
        owner_agency_id=OWNER,
        grants=grants,
        now=NOW,
        tlp=Tlp.AMBER,
        links=links,
    )
    assert got is Access.FULL


# TLP: which markings let shares and links open a case to another agency (hand-written).
# AMBER_STRICT stays inside the owner whatever is stored; RED goes to agencies named one by
# one, which every share and every request (one requested agency) is.
#                  owner        FULL share   META share       live link        unrelated
TLP_TABLE = {
    Tlp.CLEAR: (Access.OWNER, Access.FULL, Access.METADATA, Access.METADATA, None),
    Tlp.GREEN: (Access.OWNER, Access.FULL, Access.METADATA, Access.METADATA, None),
    Tlp.AMBER: (Access.OWNER, Access.FULL, Access.METADATA, Access.METADATA, None),
    Tlp.AMBER_STRICT: (Access.OWNER, None, None, None, None),
    Tlp.RED: (Access.OWNER, Access.FULL, Access.METADATA, Access.METADATA, None),
}
LINKED = [RequestLink(requested_agency_id=VIEWER, status=RequestStatus.ACCEPTED)]
TLP_SITUATIONS = [
    (VIEWER, [], []),
    (OWNER, [grant(ShareScope.FULL)], []),
    (OWNER, [grant(ShareScope.METADATA)], []),
    (OWNER, [], LINKED),
    (OWNER, [grant(ShareScope.FULL, agency=OTHER)], []),
]


def test_tlp_table_covers_every_marking():
    assert set(TLP_TABLE) == set(Tlp)


@pytest.mark.parametrize(
    ("tlp", "index", "expected"),
    [(tlp, i, row[i]) for tlp, row in TLP_TABLE.items() for i in range(len(TLP_SITUATIONS))],
)
def test_case_access_per_marking(tlp, index, expected):
    owner, grants, links = TLP_SITUATIONS[index]
    got = case_access(
        viewer_agency_id=VIEWER, owner_agency_id=owner, grants=grants, now=NOW, tlp=tlp, links=links
    )
    assert got is expected


@pytest.mark.parametrize("tlp", list(Tlp))
def test_an_amber_strict_case_is_not_found_for_every_action_outside_the_owner(tlp):
    access = case_access(
        viewer_agency_id=VIEWER,
        owner_agency_id=OWNER,
        grants=[grant(ShareScope.FULL)],
        now=NOW,
        tlp=tlp,
        links=LINKED,
    )
    for action in Action:
        decision = decide(action, access, AGENCY_ROLES)
        assert (decision is N) is (tlp is Tlp.AMBER_STRICT), (action, decision)


# Evidence attached to a request: FULL for the requested agency while the request is open
# (SUBMITTED, ACKNOWLEDGED, ACCEPTED), never for a draft nor once it ends, never for a case
# marked AMBER_STRICT; an owner or FULL recipient keeps its own level (hand-written).
ATTACHED_TABLE = [
    (RequestStatus.DRAFT, False),
    (RequestStatus.AWAITING_APPROVAL, False),
    (RequestStatus.SUBMITTED, True),
    (RequestStatus.ACKNOWLEDGED, True),
    (RequestStatus.ACCEPTED, True),
    (RequestStatus.FULFILLED, False),
    (RequestStatus.PARTIALLY_FULFILLED, False),
    (RequestStatus.DECLINED, False),
    (RequestStatus.WITHDRAWN, False),
    (RequestStatus.CLOSED, False),
]


def test_attached_table_covers_every_status():
    assert {status for status, _ in ATTACHED_TABLE} == set(RequestStatus)


@pytest.mark.parametrize("tlp", list(Tlp))
@pytest.mark.parametrize(("status", "open_"), ATTACHED_TABLE)
def test_reads_attached(tlp, status, open_):
    assert reads_attached(tlp=tlp, status=status) is (open_ and tlp is not Tlp.AMBER_STRICT)


@pytest.mark.parametrize("tlp", list(Tlp))
@pytest.mark.parametrize(("status", "open_"), ATTACHED_TABLE)
@pytest.mark.parametrize("level", [Access.METADATA, None])
def test_attached_evidence_is_full_for_the_requested_agency_while_open(tlp, status, open_, level):
    got = evidence_access(
        viewer_agency_id=VIEWER,
        case_access=level,
        tlp=tlp,
        attachments=[Attachment(requested_agency_id=VIEWER, status=status)],
    )
    assert got is (Access.FULL if open_ and tlp is not Tlp.AMBER_STRICT else level)


@pytest.mark.parametrize(
    ("level", "attachments", "expected"),
    [
        pytest.param(Access.METADATA, [], Access.METADATA, id="metadata_nothing_attached"),
        pytest.param(None, [], None, id="invisible_nothing_attached"),
        pytest.param(
            Access.METADATA,
            [Attachment(OTHER, RequestStatus.ACCEPTED)],
            Access.METADATA,
            id="attached_to_another_agency",
        ),
        pytest.param(
            Access.METADATA,
            [Attachment(VIEWER, RequestStatus.CLOSED), Attachment(VIEWER, RequestStatus.SUBMITTED)],
            Access.FULL,
            id="one_open_request_among_finished",
        ),
        pytest.param(
            Access.OWNER, [Attachment(VIEWER, RequestStatus.ACCEPTED)], Access.OWNER, id="owner"
        ),
        pytest.param(Access.FULL, [], Access.FULL, id="full_share_nothing_attached"),
        pytest.param(
            Access.FULL, [Attachment(VIEWER, RequestStatus.CLOSED)], Access.FULL, id="full_share"
        ),
    ],
)
def test_evidence_access_examples(level, attachments, expected):
    got = evidence_access(
        viewer_agency_id=VIEWER, case_access=level, tlp=Tlp.RED, attachments=attachments
    )
    assert got is expected
