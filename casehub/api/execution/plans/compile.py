"""Compile an operation into a plan: which root service to call, which loader to batch for
each relation, how to read and serialize each leaf, and the keys of the JSON in order.

Supported: one query operation without directives, selecting only `__typename` and the root
fields of casehub.api.execution.plans.roots (with their arguments, literal or variables),
their connection, edge and page-info fields, and inside nodes the fields of
casehub.api.execution.plans.fields, each once per selection set (aliases allowed, no
arguments). Anything else (fragments, directives, other fields, a response key selected
twice) compiles to None: the standard executor runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
)

from casehub.api.execution.plans.fields import (
    TYPES,
    Attribute,
    Embedded,
    GlobalId,
    PlainId,
    Related,
    Revealed,
)
from casehub.api.execution.plans.roots import ROOTS, Fetch
from casehub.api.ids import to_global_id

TYPENAME = "__typename"


class NotPlanned(Exception):
    """The document holds something a plan does not do."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar or enum field: `read(view)`, or the sealed value in `sealed` revealed."""

    key: str
    read: Callable[[Any], Any]
    sealed: str | None
    serialize: Callable[[Any], Any]
    non_null: bool


@dataclass(frozen=True, slots=True)
class Typename:
    """`__typename`."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Relation:
    """Objects through a loader, batched over every parent of the level."""

    key: str
    loader: str
    key_of: Callable[[Any], Any]
    many: bool
    non_null: bool
    child: ObjectPlan


@dataclass(frozen=True, slots=True)
class Nested:
    """An object made of the parent's own view."""

    key: str
    non_null: bool
    child: ObjectPlan


Field = Leaf | Typename | Relation | Nested


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    """The selection of one object type."""

    type_name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Part:
    """A field of a connection, an edge or a page info: `name` says which; `parts` are an
    edge's or page info's own, `node` the plan of an edge's node."""

    key: str
    name: str
    typename: str = ""
    parts: tuple[Part, ...] = ()
    node: ObjectPlan | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    """A root field returning a page."""

    key: str
    fetch: Fetch
    field: GraphQLField
    node: FieldNode
    typename: str
    parts: tuple[Part, ...]
    # Whether a protected field of the nodes is selected (else their keys are not fetched).
    sealed: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled query operation."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    roots: tuple[Connection | Typename, ...]
    loaders: frozenset[str]  # the loaders it uses


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of the operation (a validated document), or None where it is not supported."""
    operations = [
        node for node in document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    if len(operations) != len(document.definitions):
        return None  # fragments
    chosen = [
        node
        for node in operations
        if operation_name is None or (node.name is not None and node.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return None
    operation = chosen[0]
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    if any(variable.directives for variable in operation.variable_definitions or ()):
        return None
    query = schema.query_type
    if query is None:
        return None
    loaders: set[str] = set()
    try:
        roots = tuple(
            _root(schema, query, node, loaders) for node in _fields(operation.selection_set)
        )
    except NotPlanned:
        return None
    return Plan(schema, operation, roots, frozenset(loaders))


def _fields(selection_set: SelectionSetNode | None) -> Sequence[FieldNode]:
    """The fields of a selection set: plain fields only, each response key once."""
    if selection_set is None:
        raise NotPlanned("no selection")
    fields: list[FieldNode] = []
    keys: set[str] = set()
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotPlanned("a fragment or a directive")
        key = _key(selection)
        if key in keys:
            raise NotPlanned("a response key selected twice")
        keys.add(key)
        fields.append(selection)
    return fields


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _unwrap(kind: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(kind, GraphQLNonNull):
        return True, kind.of_type
    return False, kind


def _object_type(kind: GraphQLOutputType) -> GraphQLObjectType:
    if not isinstance(kind, GraphQLObjectType):
        raise NotPlanned("not an object type")
    return kind


def _root(
    schema: GraphQLSchema, query: GraphQLObjectType, node: FieldNode, loaders: set[str]
) -> Connection | Typename:
    name = node.name.value
    if name == TYPENAME:
        return Typename(_key(node), query.name)
    if name not in ROOTS or name not in query.fields:
        raise NotPlanned("another root field")
    fetch, node_type = ROOTS[name]
    field = query.fields[name]
    connection = _object_type(_unwrap(field.type)[1])
    parts = tuple(
        _connection_part(schema, connection, node_type, part, loaders)
        for part in _fields(node.selection_set)
    )
    sealed = any(
        isinstance(leaf, Leaf) and leaf.sealed is not None
        for edges in parts
        for edge in edges.parts
        if edge.node is not None
        for leaf in edge.node.fields
    )
    return Connection(_key(node), fetch, field, node, connection.name, parts, sealed)


def _connection_part(
    schema: GraphQLSchema,
    connection: GraphQLObjectType,
    node_type: str,
    node: FieldNode,
    loaders: set[str],
) -> Part:
    name, key = node.name.value, _key(node)
    if node.arguments:
        raise NotPlanned("arguments")
    if name in (TYPENAME, "totalCount"):
        return Part(key, name, connection.name)
    if name == "pageInfo":
        page_info = _object_type(_unwrap(connection.fields[name].type)[1])
        parts = tuple(
            _simple_part(page_info, part, ("hasNextPage", "endCursor"))
            for part in _fields(node.selection_set)
        )
        return Part(key, name, page_info.name, parts)
    if name == "edges":
        items = _unwrap(connection.fields[name].type)[1]
        if not isinstance(items, GraphQLList):
            raise NotPlanned("edges are a list")
        edge = _object_type(_unwrap(items.of_type)[1])
        parts = tuple(
            _edge_part(schema, edge, node_type, part, loaders)
            for part in _fields(node.selection_set)
        )
        return Part(key, name, edge.name, parts)
    raise NotPlanned("another connection field")


def _simple_part(owner: GraphQLObjectType, node: FieldNode, names: tuple[str, ...]) -> Part:
    name = node.name.value
    if node.arguments or node.selection_set or (name not in names and name != TYPENAME):
        raise NotPlanned("another field")
    return Part(_key(node), name, owner.name)


def _edge_part(
    schema: GraphQLSchema,
    edge: GraphQLObjectType,
    node_type: str,
    node: FieldNode,
    loaders: set[str],
) -> Part:
    if node.name.value != "node":
        return _simple_part(edge, node, ("cursor",))
    if node.arguments or _unwrap(edge.fields["node"].type)[1] != schema.type_map.get(node_type):
        raise NotPlanned("another node")
    return Part(
        _key(node), "node", edge.name, node=_object(schema, node_type, node.selection_set, loaders)
    )


def _object(
    schema: GraphQLSchema, type_name: str, selection_set: SelectionSetNode | None, loaders: set[str]
) -> ObjectPlan:
    table = TYPES.get(type_name)
    kind = schema.type_map.get(type_name)
    if table is None or not isinstance(kind, GraphQLObjectType):
        raise NotPlanned("another type")
    return ObjectPlan(
        type_name,
        tuple(_field(schema, kind, table, node, loaders) for node in _fields(selection_set)),
    )


def _field(
    schema: GraphQLSchema,
    owner: GraphQLObjectType,
    table: Any,
    node: FieldNode,
    loaders: set[str],
) -> Field:
    name, key = node.name.value, _key(node)
    if name == TYPENAME:
        return Typename(key, owner.name)
    spec = table.get(name)
    field = owner.fields.get(name)
    if spec is None or field is None or node.arguments:
        raise NotPlanned("another field")
    non_null, inner = _unwrap(field.type)
    if isinstance(spec, Attribute | GlobalId | PlainId | Revealed):
        if not is_leaf_type(inner) or node.selection_set is not None:
            raise NotPlanned("not a leaf")
        serialize = inner.serialize
        if isinstance(spec, Revealed):
            return Leaf(key, _no_read, spec.name, serialize, non_null)
        return Leaf(key, _reader(spec), None, serialize, non_null)
    if isinstance(spec, Embedded):
        child = _object(schema, _object_type(inner).name, node.selection_set, loaders)
        return Nested(key, non_null, child)
    assert isinstance(spec, Related)
    many = isinstance(inner, GraphQLList)
    target = _unwrap(inner.of_type)[1] if isinstance(inner, GraphQLList) else inner
    child = _object(schema, _object_type(target).name, node.selection_set, loaders)
    loaders.add(spec.loader)
    return Relation(key, spec.loader, spec.key, many, non_null, child)


def _no_read(view: Any) -> Any:  # pragma: no cover  (a revealed leaf reads its sealed value)
    raise AssertionError(view)


def _reader(spec: Attribute | GlobalId | PlainId) -> Callable[[Any], Any]:
    if isinstance(spec, Attribute):
        return attrgetter(spec.name)
    get = attrgetter(spec.attribute)
    if isinstance(spec, PlainId):
        return lambda view: str(get(view))
    type_name = spec.type_name
    return lambda view: to_global_id(type_name, get(view))
