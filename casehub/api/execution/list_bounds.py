"""List lengths of a request, checked before graphql-core coerces its variables.

graphql-core turns every item of a list variable into its input type (and strawberry then into
a Python object) before any resolver can refuse the list: 400,000 hit-check identifiers took
75 s of CPU on the event loop. Here each list in the variables and in the document is measured
once, in O(size of the JSON), against the generic `max_list_items` and against the bound of the
argument or input field it is given to, and refused with LIMIT_EXCEEDED before coercion.

`walk` is the single pass over decoded JSON that other request checks can share.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ListValueNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    type_from_ast,
    visit,
)

from casehub.domain.deconfliction.matching import HIT_CHECK_MAX
from casehub.domain.requests.content import EVIDENCE_MAX, ITEMS_MAX
from casehub.services.cases.subjects import IDENTIFIERS_MAX

LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
LIST_ITEMS = "listItems"
NODES = "Query.nodes.ids"  # bounded by the page size, which the settings choose

# Arguments (`Type.field.argument`) and input fields (`Input.field`) that take fewer items than
# the generic bound: the same maxima the services check after coercion.
BOUNDS: dict[str, int] = {
    "Query.hitCheck.identifiers": HIT_CHECK_MAX,
    "Mutation.hitCheck.identifiers": HIT_CHECK_MAX,
    "AddSubjectInput.identifiers": IDENTIFIERS_MAX,
    "CreateCooperationRequestInput.evidenceIds": EVIDENCE_MAX,
    "FulfilCooperationRequestInput.evidenceIds": EVIDENCE_MAX,
    "RequestParticularsInput.accountIdentifiers": ITEMS_MAX,
    "RequestParticularsInput.contentLocations": ITEMS_MAX,
}

Path = tuple[str | int, ...]


def walk(value: object, path: Path = ()) -> Iterator[tuple[Path, object]]:
    """Every value of decoded JSON with its path, each container before its items, without
    recursion (orjson accepts 1,024 levels, more than Python's stack)."""
    stack: list[tuple[Path, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        yield where, item
        if isinstance(item, dict):
            stack.extend(((*where, key), child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in enumerate(item))


def _has_long_list(value: object, max_items: int) -> bool:
    """Whether any list in `value` holds more than `max_items` (no paths: the common case,
    no long list, stays a tight loop)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            if len(item) > max_items:
                return True
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def _error(where: str, length: int, maximum: int, node: Node | None = None) -> GraphQLError:
    return GraphQLError(
        f"{where} holds {length} items; at most {maximum}.",
        node,
        extensions={"code": LIMIT_EXCEEDED, "limit": LIST_ITEMS, "max": maximum},
    )


def _name(path: Path) -> str:
    text = "$" + str(path[0]) if path else "the variables"
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"`{text}`"


def check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | None,
    variables: Mapping[str, Any] | None,
    max_items: int,
    page_size: int,
) -> list[GraphQLError]:
    """The lists of the request longer than they may be (at most one error for the variables:
    the first long list found ends the walk)."""
    bounds = {**BOUNDS, NODES: page_size}
    literals = _Literals(schema, bounds, max_items)
    visit(document, TypeInfoVisitor(literals.type_info, literals))
    errors = literals.errors
    given = dict(variables or {})
    if _has_long_list(given, max_items):
        # Found on the fast pass; the walk with paths says where, for the message.
        for path, value in walk(given):
            if isinstance(value, list) and len(value) > max_items:
                return [*errors, _error(_name(path), len(value), max_items)]
    if operation is None:
        return errors
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        kind = type_from_ast(schema, definition.type)
        if variables and name in variables and kind is not None:
            found = _typed(variables[name], kind, literals.usage.get(name), (name,))
            if found:
                return [*errors, found]
    return errors


def _typed(value: object, kind: Any, bound: int | None, path: Path) -> GraphQLError | None:
    """The first list of `value` (of input type `kind`) over the bound of its position."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        items = value if isinstance(value, list) else [value]
        if bound is not None and len(items) > bound:
            return _error(_name(path), len(items), bound)
        for index, item in enumerate(items):
            found = _typed(item, kind.of_type, None, (*path, index))
            if found:
                return found
    elif isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
        for key, item in value.items():
            field = kind.fields.get(key)
            if field is not None:
                found = _typed(item, field.type, BOUNDS.get(f"{kind.name}.{key}"), (*path, key))
                if found:
                    return found
    return None


class _Literals(Visitor):
    """List literals over their bound, and the bound of each variable given as an argument."""

    def __init__(self, schema: GraphQLSchema, bounds: dict[str, int], max_items: int) -> None:
        super().__init__()
        self.type_info = TypeInfo(schema)
        self.bounds = bounds
        self.max_items = max_items
        self.errors: list[GraphQLError] = []
        self.usage: dict[str, int] = {}

    def _bound(self, parent: object) -> tuple[str, int | None]:
        """The position a value is given to, and its bound if it has one of its own."""
        info = self.type_info
        if isinstance(parent, ArgumentNode):
            where = f"`{parent.name.value}`"
            owner, field = info.get_parent_type(), info.get_field_def()
            if info.get_directive() is not None or owner is None or field is None:
                return where, None
            # GraphQLField does not know its name: find it among its type's fields.
            fields: dict[str, object] = getattr(owner, "fields", {})
            name = next((key for key, each in fields.items() if each is field), "")
            return where, self.bounds.get(f"{owner.name}.{name}.{parent.name.value}")
        if isinstance(parent, ObjectFieldNode):
            outer = info.get_parent_input_type()
            coordinate = f"{get_named_type(outer).name}.{parent.name.value}" if outer else ""
            return f"`{parent.name.value}`", self.bounds.get(coordinate)
        return "a list", None

    def enter_list_value(
        self, node: ListValueNode, _key: object, parent: object, *_args: object
    ) -> None:
        where, own = self._bound(parent)
        maximum = min(self.max_items, own) if own is not None else self.max_items
        if len(node.values) > maximum:
            self.errors.append(_error(where, len(node.values), maximum, node))

    def enter_variable(
        self, node: VariableNode, _key: object, parent: object, *_args: object
    ) -> None:
        _where, own = self._bound(parent)
        if own is not None and _is_list(self.type_info.get_input_type()):
            name = node.name.value
            self.usage[name] = min(own, self.usage.get(name, own))


def _is_list(kind: GraphQLInputType | None) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)
