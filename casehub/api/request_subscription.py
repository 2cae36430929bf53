"""The live inbox: `cooperationRequestEvents`, over graphql-transport-ws only."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from casehub.api.context import Info, SocketContext
from casehub.api.request_types import RequestEvent
from casehub.domain.errors import Unauthenticated
from casehub.services import audit, inbox


@strawberry.type(
    name="Subscription",
    description=(
        "Live feeds, served over a websocket at /graphql with the graphql-transport-ws protocol "
        'only. Authenticate in connection_init: {"Authorization": "Bearer <token>"} or '
        '{"token": "<token>"}; without a valid token the connection is closed with 4401, with a '
        "token that holds no agency role (HUB_ADMIN alone) with 4403. At most 10 subscriptions "
        "per connection."
    ),
)
class RequestSubscription:
    @strawberry.subscription(
        description=(
            "Events of the cooperation requests your agency sent or received, as they are "
            "committed, oldest first: both parties receive every step, except that a draft's "
            "events go to the requester only; no other agency receives anything. Any agency "
            "role may subscribe. To resume after a disconnection, pass the last `seq` you "
            "received as `since`: you get every event you missed, none twice."
        )
    )
    async def cooperation_request_events(
        self,
        info: Info,
        since: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "Deliver the events after this `seq` first (0: from the beginning); "
                    "null: only events committed from now on."
                )
            ),
        ] = None,
    ) -> AsyncGenerator[RequestEvent, None]:
        context = info.context
        if not isinstance(context, SocketContext) or context.principal is None:
            raise Unauthenticated
        feed = inbox.follow(context.runtime, context.principal, since=since)
        async for scope, events in feed:
            with context.bind(scope) as loaders:
                # Load the actors now and end the read: rendering and sending then hold no
                # database connection, however slow the client.
                await loaders.agency.load_many([event.actor_agency_id for event in events])
                await scope.store.end_read()
                for event in events:
                    yield RequestEvent.of(event)
                # Events carry no encrypted field today; should one be selected, it is audited.
                await audit.flush_reads(scope)
