"""casehub's rows as SQLAlchemy Core values, sealed, wrapped and indexed with casehub's crypto
exactly as its use-cases do; shared by the bulk seeder and the floor's writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from casehub.crypto import DataKey, KeyProvider, blind_index, match_token, wrap_data_key
from casehub.domain.deconfliction.matching import match_material
from casehub.domain.enums import CaseStatus
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.domain.ids import new_id
from casehub.services.protected import CASE_SUMMARY, IDENTIFIER_VALUE, SUBJECT_DISPLAY_NAME

Values = dict[str, Any]


def wrap_row(keys: KeyProvider, key: DataKey, agency_id: UUID, now: datetime) -> Values:
    """An agency's wrap of a data key under its active key-encryption key."""
    version, blob = wrap_data_key(keys, key, agency_id)
    return {
        "id": new_id(),
        "scope_id": key.scope_id,
        "generation": key.generation,
        "agency_id": agency_id,
        "kek_version": version,
        "wrapped": blob,
        "created_at": now,
    }


def case_row(
    key: DataKey,
    *,
    owner: UUID,
    created_by: UUID,
    fields: dict[str, str],
    now: datetime,
) -> Values:
    """A new open case; `fields` holds reference, title, summary, category, tlp and
    handling_code, the summary in clear (sealed here under the case's key)."""
    case_id = key.scope_id
    return {
        **fields,
        "id": case_id,
        "owner_agency_id": owner,
        "summary": CASE_SUMMARY.seal(key, case_id, owner, fields["summary"]),
        "status": CaseStatus.OPEN.value,
        "version": 1,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
        "legal_hold": False,
    }


def subject_row(
    key: DataKey, *, subject_id: UUID, owner: UUID, kind: str, name: str, now: datetime
) -> Values:
    """A subject of the key's case, its name sealed."""
    return {
        "id": subject_id,
        "case_id": key.scope_id,
        "kind": kind,
        "display_name": SUBJECT_DISPLAY_NAME.seal(key, subject_id, owner, name),
        "created_at": now,
    }


def identifier_rows(
    keys: KeyProvider,
    key: DataKey,
    *,
    subject_id: UUID,
    owner: UUID,
    given: Sequence[IdentifierInput],
    region: str | None,
    now: datetime,
) -> tuple[list[Values], list[Values]]:
    """A subject's identifiers (checked, values sealed) and their index rows: the owner's
    blind index and the hub's match token of each canonical value."""
    identifiers, index = [], []
    for number, item in enumerate(given):
        field = ["identifiers", str(number)]
        item = checked_identifier(item, field=field, default_region=region)
        material = match_material(item, default_region=region, field=field)
        identifier_id = new_id()
        identifiers.append(
            {
                "id": identifier_id,
                "subject_id": subject_id,
                "case_id": key.scope_id,
                "kind": item.kind.value,
                "value": IDENTIFIER_VALUE.seal(key, identifier_id, owner, item.value),
                "platform": item.platform,
                "chain": item.chain,
                "created_at": now,
            }
        )
        index.append(
            {
                "identifier_id": identifier_id,
                "subject_id": subject_id,
                "case_id": key.scope_id,
                "agency_id": owner,
                "blind_index": blind_index(keys, owner, material),
                "match_token": match_token(keys, material),
            }
        )
    return identifiers, index
