"""The role table: which roles may attempt which operation (casehub.domain.roles)."""

from __future__ import annotations

import pytest

from casehub.domain.enums import Role
from casehub.domain.roles import AGENCY_ROLES, ROLES, Operation, may, refusal

R, INV, L, A, S, H = (
    Role.READER,
    Role.INVESTIGATOR,
    Role.LIAISON_OFFICER,
    Role.AGENCY_ADMIN,
    Role.SUPERVISOR,
    Role.HUB_ADMIN,
)

# By hand: the roles each operation admits.
EXPECTED: dict[Operation, set[Role]] = {
    Operation.READ_DIRECTORY: {R, INV, L, A, S, H},
    Operation.READ_CASES: {R, INV, L, A, S},
    Operation.READ_REQUESTS: {R, INV, L, A, S},
    Operation.READ_NOTICES: {R, INV, L, A, S},
    Operation.READ_AUDIT: {A},
    Operation.LIST_SHARES: {INV, A},
    Operation.REGISTER_AGENCY: {H},
    Operation.OPEN_CASE: {INV},
    Operation.UPDATE_CASE: {INV},
    Operation.ADD_SUBJECT: {INV},
    Operation.ADD_EVIDENCE: {INV},
    Operation.RECORD_CUSTODY: {INV},
    Operation.SHARE_CASE: {A},
    Operation.REVOKE_SHARE: {A},
    Operation.SET_LEGAL_HOLD: {A},
    Operation.SHRED_CASE: {A},
    Operation.ACT_ON_REQUESTS: {L, A},
    Operation.APPROVE_REQUESTS: {S},
    Operation.HIT_CHECK: {INV, L},
    Operation.REGISTER_SIGNING_KEY: {A},
    Operation.ACCREDIT_SIGNING_KEY: {H},
    Operation.REVOKE_SIGNING_KEY: {A, H},
}


def test_every_operation_has_a_row() -> None:
    assert set(EXPECTED) == set(Operation) == set(ROLES)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("operation", list(Operation))
def test_each_role_alone(operation: Operation, role: Role) -> None:
    assert may({role}, operation) is (role in EXPECTED[operation])


@pytest.mark.parametrize("operation", list(Operation))
def test_no_roles_may_nothing_and_all_roles_may_everything(operation: Operation) -> None:
    assert may(set(), operation) is False
    assert may(set(Role), operation) is True


@pytest.mark.parametrize("operation", list(Operation))
def test_hub_admin_with_the_agency_roles_adds_only_its_own(operation: Operation) -> None:
    # Holding HUB_ADMIN besides the agency roles changes nothing but the hub's own acts.
    expected = operation not in (Operation.REGISTER_AGENCY, Operation.ACCREDIT_SIGNING_KEY)
    assert may(AGENCY_ROLES, operation) is expected
    assert may(AGENCY_ROLES | {H}, operation) is True


def test_the_refusal_names_the_roles() -> None:
    assert refusal(Operation.ACT_ON_REQUESTS) == (
        "This needs the AGENCY_ADMIN or LIAISON_OFFICER role."
    )
