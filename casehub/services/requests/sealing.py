"""Sealing of a request's protected fields under the request's own data key."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.persistence.tables import CooperationRequestRow
from casehub.services.cases.cases import seal, sealed
from casehub.services.keys import data_keys as keys
from casehub.services.runtime import Scope
from casehub.services.views import Sealed

TABLE = "cooperation_request"


def particulars_json(particulars: Particulars) -> str:
    """The particulars as the JSON that is encrypted."""
    return json.dumps(
        {
            "offence": particulars.offence,
            "dataToPreserve": particulars.data_to_preserve,
            "custodianOrLocation": particulars.custodian_or_location,
            "followUpMla": particulars.follow_up_mla,
            "imminentThreat": particulars.imminent_threat,
            "accountIdentifiers": [
                {
                    "kind": item.kind.value,
                    "value": item.value,
                    "platform": item.platform,
                    "chain": item.chain,
                }
                for item in particulars.account_identifiers
            ],
            "contentLocations": list(particulars.content_locations),
        },
        sort_keys=True,
    )


def particulars_from_json(text: str) -> Particulars:
    """Read what particulars_json wrote."""
    from casehub.domain.enums import IdentifierKind

    data: dict[str, Any] = json.loads(text)
    return Particulars(
        offence=data.get("offence"),
        data_to_preserve=data.get("dataToPreserve"),
        custodian_or_location=data.get("custodianOrLocation"),
        follow_up_mla=data.get("followUpMla"),
        imminent_threat=data.get("imminentThreat"),
        account_identifiers=tuple(
            IdentifierInput(
                IdentifierKind(item["kind"]), item["value"], item.get("platform"), item.get("chain")
            )
            for item in data.get("accountIdentifiers", [])
        ),
        content_locations=tuple(data.get("contentLocations", [])),
    )


async def request_key(scope: Scope, request_id: UUID) -> DataKey:
    """The caller's key of a request it is party to (both parties hold a wrap)."""
    key = (await keys.viewer_keys(scope, [request_id]))[request_id]
    if key is None:
        raise LookupError("a party of the request holds no wrap of its key")
    return key


def seal_request_field(
    key: DataKey, row_id: UUID, owner: UUID, column: str, value: str | bytes, table: str = TABLE
) -> bytes:
    """Encrypt a field of a request (or of one of its messages or evidence copies)."""
    return seal(key, table, column, row_id, owner, value)


def sealed_request_field(
    blob: bytes | None,
    key: DataKey | None,
    row_id: UUID,
    owner: UUID,
    column: str,
    object_type: str,
    table: str = TABLE,
) -> Sealed:
    """A protected request field as a view carries it."""
    return sealed(blob, key, table, column, row_id, owner, object_type)


def owner_of(row: CooperationRequestRow) -> UUID:
    """The agency request ciphertexts are bound to: the requester."""
    return row.requester_agency_id
