"""The live feed of hit notices: `hitNotices`, over graphql-transport-ws only."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from casehub.api import feeds
from casehub.api.context import Info
from casehub.api.deconfliction.types import (
    HitNotice,
)
from casehub.api.loaders import Loaders
from casehub.services.deconfliction import hits as deconfliction
from casehub.services.runtime import Principal, Runtime, Scope
from casehub.services.views import HitNoticeView


@strawberry.type(description="Live deconfliction feeds.")
class DeconflictionSubscription:
    @strawberry.subscription(
        description=(
            "Hit notices sent to your agency as they are committed, oldest first (any agency "
            "role). To resume, pass the last `seq` you received as `since`."
        )
    )
    async def hit_notices(
        self,
        info: Info,
        since: Annotated[
            int | None,
            strawberry.argument(
                description="Deliver the notices after this `seq` first; null: only new ones."
            ),
        ] = None,
    ) -> AsyncGenerator[HitNotice, None]:
        async def preload(loaders: Loaders, notices: list[HitNoticeView]) -> object:
            await loaders.agency.load_many([item.asking_agency_id for item in notices])
            return await loaders.case.load_many([c for item in notices for c in item.case_ids])

        def follow(
            runtime: Runtime, principal: Principal
        ) -> AsyncGenerator[tuple[Scope, list[HitNoticeView]], None]:
            return deconfliction.follow_notices(runtime, principal, since=since)

        async for notice in feeds.deliver(info, follow, preload, HitNotice.of):
            yield notice
