"""`node` and `nodes`: any object by global id, through the one registry of the node types.

NODES gives each name a global id may carry (casehub.api.ids.NodeName) its GraphQL type and its
look-up; the schema lists its types from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar, get_args

import strawberry

from casehub.api.agencies.types import Agency, AgencySigningKey
from casehub.api.cases.types import Case, CaseShare, CustodyEvent, Evidence, Identifier, Subject
from casehub.api.context import Info
from casehub.api.ids import NodeName, parse_global_id
from casehub.api.relay import Node
from casehub.api.requests.types import CooperationRequest
from casehub.domain.errors import ValidationFailed
from casehub.services import lookup

MAX_NODES = 100

V = TypeVar("V")
V_contra = TypeVar("V_contra", contravariant=True)


class Rendered(Protocol[V_contra]):
    """A GraphQL node type, rendered from a service view."""

    @classmethod
    def of(cls, view: V_contra) -> Node: ...


@dataclass(frozen=True)
class NodeType:
    """A node type: its GraphQL type and the look-up of the views it renders."""

    graphql: type[Rendered[Any]]
    reader: lookup.Reader[Any]


def _pair(graphql: type[Rendered[V]], reader: lookup.Reader[V]) -> NodeType:
    # Generic, so that mypy checks that the type renders the views its look-up finds.
    return NodeType(graphql, reader)


def _node_type(name: NodeName) -> NodeType:
    # A match rather than a dict, so that mypy checks that every node name has its entry.
    match name:
        case "Agency":
            return _pair(Agency, lookup.AGENCIES)
        case "Case":
            return _pair(Case, lookup.CASES)
        case "Subject":
            return _pair(Subject, lookup.SUBJECTS)
        case "Identifier":
            return _pair(Identifier, lookup.IDENTIFIERS)
        case "Evidence":
            return _pair(Evidence, lookup.EVIDENCE)
        case "CustodyEvent":
            return _pair(CustodyEvent, lookup.CUSTODY)
        case "CaseShare":
            return _pair(CaseShare, lookup.SHARES)
        case "CooperationRequest":
            return _pair(CooperationRequest, lookup.REQUESTS)
        case "AgencySigningKey":
            return _pair(AgencySigningKey, lookup.SIGNING_KEYS)


NODES: dict[NodeName, NodeType] = {name: _node_type(name) for name in get_args(NodeName)}


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    wanted = [(NODES[name], object_id) for name, object_id in map(parse_global_id, ids)]
    found = await lookup.objects_by_ids(
        info.context.scope, [(node.reader, object_id) for node, object_id in wanted]
    )
    return [
        None if view is None else node.graphql.of(view)
        for (node, _id), view in zip(wanted, found, strict=True)
    ]


@strawberry.type(description="Reads by global id.")
class NodeQuery:
    @strawberry.field(
        description="Any object by global id; null if it does not exist for you. FORBIDDEN when "
        "your roles read no object of its type (HUB_ADMIN alone reads agencies only)."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The object's global id.")],
    ) -> Node | None:
        return (await _nodes(info, [id]))[0]

    @strawberry.field(
        description="Objects by global ids (≤ 100), in order; null where not visible. "
        "FORBIDDEN when your roles read no object of one of their types."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global ids (at most the page size), any types."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ValidationFailed(f"At most {MAX_NODES} ids.", ["ids"])
        return await _nodes(info, ids)
