"""The live inbox: the cooperation-request events an agency may see, as they are committed
(the machinery every live feed shares is casehub.services.feeds)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from casehub.domain.roles import Operation
from casehub.persistence.tables import RequestEventRow
from casehub.services.bus import EventBus
from casehub.services.feeds import BATCH, RECHECK_SECONDS, Position, follow_feed
from casehub.services.requests import reads as request_reads
from casehub.services.runtime import Principal, Runtime, Scope
from casehub.services.views import RequestEventView


async def latest_seq(scope: Scope) -> int:
    """The newest request event's sequence number (0 when there is none): "from now"."""
    scope.caller()
    return await scope.store.latest_event_seq()


class RequestEventFeed:
    """The cooperation-request events of an agency's requests."""

    operation = Operation.READ_REQUESTS
    table = RequestEventRow

    def bus(self, runtime: Runtime) -> EventBus:
        """Request events are announced on the runtime's main bus."""
        return runtime.bus

    async def read(
        self, scope: Scope, *, after: Position, before: Position, limit: int
    ) -> list[tuple[Position, RequestEventView]]:
        """The events between two feed positions that the caller's agency may see."""
        return await request_reads.events_between(scope, after=after, before=before, limit=limit)


async def follow(
    runtime: Runtime,
    principal: Principal,
    *,
    since: int | None,
    batch: int = BATCH,
    recheck: float = RECHECK_SECONDS,
) -> AsyncGenerator[tuple[Scope, list[RequestEventView]], None]:
    """Batches of the request events after `since` (None: from now on) that the principal's
    agency may see, oldest first, forever (see `follow_feed`)."""
    feed = follow_feed(
        runtime, principal, RequestEventFeed(), since=since, batch=batch, recheck=recheck
    )
    async for item in feed:
        yield item
