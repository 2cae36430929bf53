"""A cooperation request's receipt chain for the operator: export it as one self-contained
document, and verify such a document offline with nothing but the hub's public keys.

The document (format casehub-receipts/1):

    {"format": "casehub-receipts/1",
     "request": "<global id of the CooperationRequest>",
     "receipts": [{"event": {...}, "prev_digest": "…", "digest": "…",
                   "signature": "…", "key_id": "…"}, ...],
     "keys": {"keys": [<Ed25519 OKP JWK>, ...]}}

Verifying it offline is casehub.crypto.receipt_files.verify_document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from casehub.crypto.receipt_files import FORMAT
from casehub.domain.errors import NotFound
from casehub.domain.requests.receipts import Receipt
from casehub.persistence.tables import CooperationRequestRow, RequestEventRow
from casehub.services.audit import trail as audit
from casehub.services.runtime import Scope


def receipt_of(row: RequestEventRow) -> Receipt:
    """The receipt stored with an event: its signed event JSON and chain fields."""
    event: dict[str, object] = json.loads(row.payload)
    return Receipt(
        event=event,
        prev_digest=row.prev_digest,
        digest=row.digest,
        signature=row.signature,
        key_id=row.key_id,
    )


async def request_receipts(scope: Scope, *, request_id: UUID) -> list[Receipt]:
    """Every receipt of one request, in event order (operator read: no principal needed)."""
    async with audit.mutation(scope, "receipts.export") as entry:
        _request, events = await exported_events(scope, entry, request_id=request_id)
    return [receipt_of(row) for row in events]


async def exported_events(
    scope: Scope, entry: audit.AuditEntry, *, request_id: UUID
) -> tuple[CooperationRequestRow, list[RequestEventRow]]:
    """The request an export names (NotFound if none) and its events in order, the audit
    entry of the export pointed at the request and counting the receipts."""
    rows = await scope.store.requests_by_ids([request_id])
    if not rows:
        raise NotFound(f"No cooperation request with id {request_id}.", ["requestId"])
    request = rows[0]
    entry.object_type, entry.object_id, entry.object_agency_id = (
        "CooperationRequest",
        request.id,
        request.requester_agency_id,
    )
    events = sorted(await scope.store.events_by_request([request_id]), key=lambda row: row.number)
    entry.details = {"receipts": len(events)}
    return request, events


def export_document(
    request_global_id: str, receipts: list[Receipt], keys: Mapping[str, object]
) -> dict[str, Any]:
    """The self-contained export: the request, its receipts and the JWKS to check them."""
    return {
        "format": FORMAT,
        "request": request_global_id,
        "receipts": [receipt.to_dict() for receipt in receipts],
        "keys": dict(keys),
    }


async def export_receipts(
    scope: Scope, *, request_id: UUID, request_global_id: str
) -> dict[str, Any]:
    """Read a request's chain and wrap it with the hub's public keys."""
    receipts = await request_receipts(scope, request_id=request_id)
    return export_document(request_global_id, receipts, scope.runtime.keys.receipt_public_keys())
