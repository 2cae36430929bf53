"""Request events: every step appended to the request's chain with the hub's signed receipt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from casehub.domain.ids import new_id
from casehub.domain.requests.receipts import event_timestamp, issue_receipt
from casehub.domain.requests.transitions import (
    RequestAction,
    RequestStatus,
    event_reaches_requested,
)
from casehub.persistence.tables import (
    CooperationRequestRow,
    RequestEventRow,
    RequestMessageRow,
)
from casehub.services.protected import MESSAGE_BODY, owner_of
from casehub.services.requests.sealing import request_key
from casehub.services.runtime import Scope


async def record_event(
    scope: Scope,
    request: CooperationRequestRow,
    action: RequestAction,
    from_status: RequestStatus | None,
    to_status: RequestStatus,
    message: RequestMessageRow | None = None,
    *,
    signatures: Sequence[str] = (),
) -> RequestEventRow:
    """Append the step to the request's event chain with a signed receipt; `signatures` are
    the digests of the agency signatures the step carries, which the receipt commits to."""
    principal = scope.caller()
    previous = await scope.store.last_event(request.id)
    number = 1 if previous is None else previous.number + 1
    now = scope.now
    event: dict[str, object] = {
        "request": str(request.id),
        "number": number,
        "action": action.value,
        "from": from_status.value if from_status else None,
        "to": to_status.value,
        "requester": str(request.requester_agency_id),
        "requested": str(request.requested_agency_id),
        "actorAgency": str(principal.agency_id),
        "actorPrincipal": str(principal.id),
        "at": event_timestamp(now),
        "messageSha256": hashlib.sha256(message.body).hexdigest() if message else None,
    }
    if signatures:
        # Only signed steps carry the member: unsigned events keep the receipts they always had.
        event["signatures"] = list(signatures)
    receipt = issue_receipt(
        event, previous.digest if previous else None, scope.runtime.keys.receipt_signer()
    )
    row = RequestEventRow(
        id=new_id(),
        request_id=request.id,
        number=number,
        action=action.value,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        actor_agency_id=principal.agency_id,
        actor_principal_id=principal.id,
        requester_agency_id=request.requester_agency_id,
        requested_agency_id=request.requested_agency_id,
        visible_to_requested=event_reaches_requested(action, from_status, to_status),
        message_id=message.id if message else None,
        occurred_at=now,
        digest=receipt.digest,
        prev_digest=receipt.prev_digest,
        signature=receipt.signature,
        key_id=receipt.key_id,
        payload=json.dumps(receipt.event, sort_keys=True, separators=(",", ":")),
        # Not before the previous event in the feed, whichever transaction id this one has.
        position_xid=previous.position_xid if previous else 0,
    )
    scope.store.add(row)
    await scope.store.flush()
    return row


async def announce(scope: Scope, event: RequestEventRow) -> None:
    if event.seq is not None:
        await scope.runtime.bus.published(event.seq)


async def post_message(
    scope: Scope, row: CooperationRequestRow, kind: str, text: str | None
) -> RequestMessageRow:
    principal = scope.caller()
    key = await request_key(scope, row.id)
    message_id = new_id()
    message = RequestMessageRow(
        id=message_id,
        request_id=row.id,
        kind=kind,
        author_agency_id=principal.agency_id,
        author_principal_id=principal.id,
        body=MESSAGE_BODY.seal(key, message_id, owner_of(row), text or ""),
        created_at=scope.now,
    )
    scope.store.add(message)
    await scope.store.flush()
    return message
