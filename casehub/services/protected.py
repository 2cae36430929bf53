"""Every protected field, named once.

An envelope's associated data names the table and column it belongs to (`FieldContext`), so a
field sealed under one name and opened under another never decrypts. Each field is declared
here once, with the table name taken from its table class and the column checked against that
class when this module is imported; every seal, reveal and read audit goes through its entry.
tests/unit/test_protected.py holds the registry to the tables: every encrypted column has
exactly one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from pydantic import BaseModel

from casehub.crypto import DataKey, FieldContext, open_field, seal_field
from casehub.persistence.tables import (
    AuditEventRow,
    CaseRow,
    CooperationRequestRow,
    CustodyEventRow,
    EvidenceRow,
    IdentifierRow,
    RequestEvidenceRow,
    RequestMessageRow,
    SubjectRow,
)
from casehub.services.views import Sealed


class KeyScope(Enum):
    """Which data key seals a field, and so whose agency id binds it (its owner)."""

    # The case's key; the owner is the case's owner agency. Shredding the case erases it.
    CASE = "case"
    # The request's key, which both parties hold; the owner is the requesting agency.
    REQUEST = "request"


@dataclass(frozen=True, slots=True)
class ProtectedField:
    """One protected field: the place its envelopes are bound to (`table`, `column`), the key
    that seals it, the object type under which the read audit records `column` as read, and
    where it is stored (`home`: table and column; the same place for every field but the
    legal-hold reason)."""

    table: str
    column: str
    key_scope: KeyScope
    object_type: str
    home: tuple[str, str]

    def context(self, row_id: UUID, owner_id: UUID) -> FieldContext:
        """The field of one row, as its envelope is bound to it."""
        return FieldContext(self.table, self.column, row_id, owner_id)

    def seal(self, key: DataKey, row_id: UUID, owner_id: UUID, value: str | bytes) -> bytes:
        """Encrypt the field of one row (text as UTF-8)."""
        plaintext = value.encode("utf-8") if isinstance(value, str) else value
        return seal_field(key, self.context(row_id, owner_id), plaintext)

    def open(self, key: DataKey, row_id: UUID, owner_id: UUID, blob: bytes) -> bytes:
        """Decrypt the field of one row for the service's own use: no read is audited, so
        the plaintext must never reach a caller (a reveal goes through `sealed`)."""
        return open_field(key, self.context(row_id, owner_id), blob)

    def sealed(
        self, blob: bytes | None, key: DataKey | None, row_id: UUID, owner_id: UUID
    ) -> Sealed:
        """The field of one row as a view carries it, revealed (and audited) when asked for."""
        return Sealed(blob, self.context(row_id, owner_id), key, self.object_type)


def _place(table: type[BaseModel], column: str) -> tuple[str, str]:
    """A column of a table class, refused at import when the class has no such column.

    Services do not import sqlmodel: a table class is taken as the pydantic model it also is."""
    name = vars(table).get("__tablename__")
    if not isinstance(name, str) or column not in table.model_fields:
        raise LookupError(f"{table.__name__} has no column {column!r}")
    return name, column


def _stored(
    table: type[BaseModel], column: str, key_scope: KeyScope, object_type: str
) -> ProtectedField:
    """A field whose envelopes are bound to the column that stores them."""
    place = _place(table, column)
    return ProtectedField(*place, key_scope, object_type, place)


CASE_SUMMARY = _stored(CaseRow, "summary", KeyScope.CASE, "Case")
SUBJECT_DISPLAY_NAME = _stored(SubjectRow, "display_name", KeyScope.CASE, "Subject")
IDENTIFIER_VALUE = _stored(IdentifierRow, "value", KeyScope.CASE, "Identifier")
EVIDENCE_DESCRIPTION = _stored(EvidenceRow, "description", KeyScope.CASE, "Evidence")
EVIDENCE_CONTENT = _stored(EvidenceRow, "content", KeyScope.CASE, "Evidence")
CUSTODY_NOTE = _stored(CustodyEventRow, "note", KeyScope.CASE, "CustodyEvent")
REQUEST_BODY = _stored(CooperationRequestRow, "body", KeyScope.REQUEST, "CooperationRequest")
REQUEST_PARTICULARS = _stored(
    CooperationRequestRow, "particulars", KeyScope.REQUEST, "CooperationRequest"
)
MESSAGE_BODY = _stored(RequestMessageRow, "body", KeyScope.REQUEST, "RequestMessage")
REQUEST_EVIDENCE_DESCRIPTION = _stored(
    RequestEvidenceRow, "description", KeyScope.REQUEST, "RequestEvidence"
)
REQUEST_EVIDENCE_CONTENT = _stored(
    RequestEvidenceRow, "content", KeyScope.REQUEST, "RequestEvidence"
)
# A legal hold's reason is kept base64 in its audit event's details ("reasonSealed"). Its
# envelopes name the place "case"/"legal_hold_reason", fixed before this registry: audit
# events already hold reasons sealed so, and renaming it would leave them unopenable.
LEGAL_HOLD_REASON = ProtectedField(
    "case", "legal_hold_reason", KeyScope.CASE, "Case", _place(AuditEventRow, "details")
)

FIELDS = (
    CASE_SUMMARY,
    SUBJECT_DISPLAY_NAME,
    IDENTIFIER_VALUE,
    EVIDENCE_DESCRIPTION,
    EVIDENCE_CONTENT,
    CUSTODY_NOTE,
    REQUEST_BODY,
    REQUEST_PARTICULARS,
    MESSAGE_BODY,
    REQUEST_EVIDENCE_DESCRIPTION,
    REQUEST_EVIDENCE_CONTENT,
    LEGAL_HOLD_REASON,
)


def owner_of(row: CooperationRequestRow) -> UUID:
    """The agency a request's envelopes (its own, its messages', its evidence copies') are
    bound to: the requester."""
    return row.requester_agency_id
