"""The registry of protected fields against the tables: every encrypted column has exactly one
entry, every entry names a real column, and an envelope sealed for one field opens for no other."""

from __future__ import annotations

import itertools
import os
from uuid import uuid4

import pytest
from sqlalchemy import LargeBinary
from sqlmodel import SQLModel

from casehub.crypto import DataKey, DecryptionError
from casehub.persistence.tables import CaseRow
from casehub.services import protected
from casehub.services.protected import FIELDS, LEGAL_HOLD_REASON, KeyScope, ProtectedField
from tests.at_rest import SCOPES

# Binary columns that hold no field envelope, and why.
NOT_ENVELOPES = {
    ("data_key_wrap", "wrapped"): "a data key wrapped under an agency's KEK",
    ("identifier_index", "blind_index"): "a keyed digest, not a ciphertext",
    ("identifier_index", "match_token"): "a keyed digest, not a ciphertext",
    ("audit_node", "hash"): "a Merkle tree node of the audit log, public to administrators",
    ("federation_outbox", "payload"): "an HPKE ciphertext sealed to the hub's own federation "
    "key, bound to its row (casehub.crypto.federation_outbox), not a field envelope",
}


def _place(field: ProtectedField) -> tuple[str, str]:
    """The place an envelope of the field is bound to."""
    return field.table, field.column


def _name(field: ProtectedField) -> str:
    return ".".join(_place(field))


def _columns() -> dict[tuple[str, str], object]:
    return {
        (table.name, column.name): column.type
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
    }


def _binary_columns() -> list[tuple[str, str]]:
    return sorted(place for place, kind in _columns().items() if isinstance(kind, LargeBinary))


def test_every_encrypted_column_has_exactly_one_entry() -> None:
    encrypted = [place for place in _binary_columns() if place not in NOT_ENVELOPES]
    bound_where_stored = sorted(field.home for field in FIELDS if field.home == _place(field))
    assert bound_where_stored == encrypted


def test_the_exceptions_are_real_binary_columns() -> None:
    assert set(NOT_ENVELOPES) <= set(_binary_columns())


def test_every_entry_is_stored_in_a_real_column() -> None:
    columns = _columns()
    assert [field for field in FIELDS if field.home not in columns] == []


def test_only_the_legal_hold_reason_is_bound_to_another_place_than_its_column() -> None:
    assert [field for field in FIELDS if field.home != _place(field)] == [LEGAL_HOLD_REASON]


def test_no_two_entries_share_a_place() -> None:
    places = [_place(field) for field in FIELDS]
    assert len(set(places)) == len(places)


def test_every_entry_is_listed() -> None:
    declared = [value for value in vars(protected).values() if isinstance(value, ProtectedField)]
    assert sorted(map(_place, declared)) == sorted(map(_place, FIELDS))


@pytest.mark.parametrize("field", FIELDS, ids=_name)
def test_a_stored_field_lives_with_its_key_scope(field: ProtectedField) -> None:
    """A field sealed under a case's (or request's) key is in a row of that case (request)."""
    table, _column = field.home
    scope_table, _owner, link = SCOPES[field.key_scope]
    if field is LEGAL_HOLD_REASON:
        assert field.key_scope is KeyScope.CASE  # the hold's audit event names the case
        return
    assert table == scope_table or (table, link) in _columns()


def test_a_misnamed_column_fails_when_the_registry_is_built() -> None:
    with pytest.raises(LookupError, match="summry"):
        protected._stored(CaseRow, "summry", KeyScope.CASE, "Case")


KEY = DataKey.of(uuid4(), 1, os.urandom(32))
ROW, OWNER = uuid4(), uuid4()
PAIRS = list(itertools.permutations(FIELDS, 2))


@pytest.mark.parametrize(
    ("sealed_as", "opened_as"),
    PAIRS,
    ids=[f"{_name(a)}->{_name(b)}" for a, b in PAIRS],
)
def test_an_envelope_opens_only_as_the_field_it_was_sealed_for(
    sealed_as: ProtectedField, opened_as: ProtectedField
) -> None:
    blob = sealed_as.seal(KEY, ROW, OWNER, "Jane Roe")
    assert sealed_as.open(KEY, ROW, OWNER, blob) == b"Jane Roe"
    with pytest.raises(DecryptionError):
        opened_as.open(KEY, ROW, OWNER, blob)
