"""`node` and `nodes`: any object by global id, through one registry of the types that are
nodes."""

from __future__ import annotations

from typing import Any

import strawberry

from casehub.api.agencies.types import Agency
from casehub.api.cases.types import Case, CaseShare, CustodyEvent, Evidence, Identifier, Subject
from casehub.api.context import Info
from casehub.api.ids import parse_global_id
from casehub.api.relay import Node
from casehub.api.requests.types import CooperationRequest
from casehub.domain.errors import ValidationFailed
from casehub.services import lookup

MAX_NODES = 100

_RENDER: dict[str, Any] = {
    "Agency": Agency.of,
    "Case": Case.of,
    "Subject": Subject.of,
    "Identifier": Identifier.of,
    "Evidence": Evidence.of,
    "CustodyEvent": CustodyEvent.of,
    "CaseShare": CaseShare.of,
    "CooperationRequest": CooperationRequest.of,
}


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    wanted = [parse_global_id(value) for value in ids]
    found = await lookup.objects_by_ids(info.context.scope, wanted)
    return [
        None if view is None else _RENDER[type_name](view)
        for (type_name, _id), view in zip(wanted, found, strict=True)
    ]


@strawberry.type(description="Reads by global id.")
class NodeQuery:
    @strawberry.field(
        description="Any object by global id; null if it does not exist for you. FORBIDDEN when "
        "your roles read no object of its type (HUB_ADMIN alone reads agencies only)."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await _nodes(info, [id]))[0]

    @strawberry.field(
        description="Objects by global ids (≤ 100), in order; null where not visible. "
        "FORBIDDEN when your roles read no object of one of their types."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ValidationFailed(f"At most {MAX_NODES} ids.", ["ids"])
        return await _nodes(info, ids)
