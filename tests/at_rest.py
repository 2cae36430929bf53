"""The envelopes stored for each protected field, read from the database as it is, by SQL.

The at-rest and shredding tests walk casehub.services.protected.FIELDS through this: each field
found where its entry says it is stored, under the scope (case or request) its key belongs to.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text

from casehub.crypto import DataKey
from casehub.services.keys import data_keys
from casehub.services.protected import LEGAL_HOLD_REASON, KeyScope, ProtectedField
from casehub.services.runtime import Runtime, open_scope

# For each key scope: the table of the scope's rows, its owner column, and the column that
# links the rows of other tables to it.
SCOPES = {
    KeyScope.CASE: ("case_file", "owner_agency_id", "case_id"),
    KeyScope.REQUEST: ("cooperation_request", "requester_agency_id", "request_id"),
}


@dataclass(frozen=True, slots=True)
class Envelope:
    """One stored ciphertext of a field, with what binds and opens it."""

    field: ProtectedField
    row_id: UUID
    scope_id: UUID
    owner_id: UUID
    blob: bytes

    def open(self, key: DataKey) -> bytes:
        """The plaintext under the field's registry entry."""
        return self.field.open(key, self.row_id, self.owner_id, self.blob)


def _uid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _param(runtime: Runtime, value: UUID) -> Any:
    # SQLite stores UUIDs as 32 hex characters; PostgreSQL has a uuid type.
    return value if runtime.database.engine.dialect.name == "postgresql" else value.hex


def _statement(field: ProtectedField) -> str:
    """Row id, envelope, scope id and owner of the field's envelopes under one owner."""
    if field is LEGAL_HOLD_REASON:  # base64 in the details of the hold's audit event
        return (
            "SELECT e.object_id, e.details, e.object_id, e.object_agency_id FROM audit_event e "
            "WHERE e.action = 'case.legal_hold' AND e.object_agency_id = :owner"
        )
    table, column = field.home
    scope_table, owner_column, link = SCOPES[field.key_scope]
    link = "id" if table == scope_table else link
    return (
        f"SELECT t.id, t.{column}, s.id, s.{owner_column} FROM {table} t "
        f"JOIN {scope_table} s ON s.id = t.{link} "
        f"WHERE s.{owner_column} = :owner AND t.{column} IS NOT NULL"
    )


def _blob(field: ProtectedField, stored: Any) -> bytes:
    if field is LEGAL_HOLD_REASON:
        return base64.b64decode(json.loads(stored)["reasonSealed"])
    return bytes(stored)


async def envelopes(runtime: Runtime, field: ProtectedField, owner: UUID) -> list[Envelope]:
    """The field's envelopes bound to `owner`, in the database as it stands."""
    async with runtime.database.engine.connect() as connection:
        rows = await connection.execute(text(_statement(field)), {"owner": _param(runtime, owner)})
        return [
            Envelope(field, _uid(row[0]), _uid(row[2]), _uid(row[3]), _blob(field, row[1]))
            for row in rows
        ]


async def owner_key(runtime: Runtime, envelope: Envelope) -> DataKey | None:
    """The owner's key of the envelope's scope (None once none is left: a shredded case)."""
    async with open_scope(runtime) as scope:
        found = await data_keys.agency_keys(scope, [envelope.scope_id], envelope.owner_id)
    return found[envelope.scope_id]
