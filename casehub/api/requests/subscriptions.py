"""The live inbox: `cooperationRequestEvents`, over graphql-transport-ws only."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from casehub.api import feeds
from casehub.api.context import Info
from casehub.api.loaders import Loaders
from casehub.api.requests.types import RequestEvent
from casehub.services.requests import inbox
from casehub.services.runtime import Principal, Runtime, Scope
from casehub.services.views import RequestEventView

SOCKET_DESCRIPTION = (
    "Live feeds, served over a websocket at /graphql with the graphql-transport-ws protocol "
    'only. Authenticate in connection_init: {"Authorization": "Bearer <token>"} or '
    '{"token": "<token>"}; without a valid token the connection is closed with 4401, with a '
    "token that holds no agency role (HUB_ADMIN alone) with 4403. At most 10 subscriptions "
    "per connection."
)


@strawberry.type(description="Live feed of cooperation requests.")
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
        async def preload(loaders: Loaders, events: list[RequestEventView]) -> object:
            return await loaders.agency.load_many([event.actor_agency_id for event in events])

        def follow(
            runtime: Runtime, principal: Principal
        ) -> AsyncGenerator[tuple[Scope, list[RequestEventView]], None]:
            return inbox.follow(runtime, principal, since=since)

        async for event in feeds.deliver(info, follow, preload, RequestEvent.of):
            yield event
