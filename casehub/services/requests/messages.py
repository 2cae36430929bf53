"""Use-case on a request's thread: a message to the other party."""

from __future__ import annotations

from uuid import UUID

from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.errors import ValidationFailed
from casehub.domain.requests.transitions import RequestAction, RequestStatus
from casehub.domain.roles import Operation
from casehub.services.audit import trail as audit
from casehub.services.protected import owner_of
from casehub.services.requests.events import announce, post_message, record_event
from casehub.services.requests.lifecycle import load_party
from casehub.services.requests.reads import message_view
from casehub.services.requests.sealing import request_key
from casehub.services.runtime import Scope
from casehub.services.views import RequestMessageView

MESSAGE_MAX = 20_000


async def add_message(scope: Scope, *, request_id: UUID, body: str) -> RequestMessageView:
    """Post to a request's thread; both parties read it (a closed request takes no more)."""
    async with audit.mutation(scope, "request.message") as entry:
        party = await load_party(scope, request_id)
        row = party.row
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CooperationRequest",
            row.id,
            row.requester_agency_id,
        )
        scope.require(Operation.ACT_ON_REQUESTS)
        check.text(body, field=["body"], max_length=MESSAGE_MAX, multiline=True)
        status = RequestStatus(row.status)
        if status in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN):
            raise ValidationFailed(f"A {status.value} request takes no more messages.", ["id"])
        # Counted under the request's lock: concurrent posts cannot both take the last place.
        await scope.store.lock_request(row.id)
        check_room(
            await scope.store.count_messages(row.id, "MESSAGE"),
            maximum=scope.runtime.settings.max_messages_per_request,
            holder="A request's thread",
            items="messages",
            field=["id"],
        )
        message = await post_message(scope, row, "MESSAGE", body)
        event = await record_event(scope, row, RequestAction.MESSAGE, status, status, message)
    await announce(scope, event)
    return message_view(message, await request_key(scope, row.id), owner_of(row))
