"""The cost and depth of one operation, measured on its document before anything runs.

Cost: the number of objects the operation may return, every page and every list counted full.
A field that returns one object costs 1 plus its selection; a field that returns a list of
objects costs, for each of the items it may hold, 1 plus the selection: `nodes(ids:)` as many as
the ids, a plain list as many as its bound (casehub.api.execution.bounds, a table the services
enforce).
A connection (a field taking `first` or `last`) costs 1 plus its selection multiplied by its page
size (`first`, 20 when absent); its `edges` count once each. Scalars and enums cost nothing. Each
alias and each fragment spread counts again. `{ cases(first: 100) { edges { node { id
owner { code } } } } }` costs 1 + 100 * (1 + 1 + 1) = 301; `{ node(id: $c) { ... on Case {
subjects { identifiers { value } } } } }` costs 1 + 100 * (1 + 10 * 1) = 1,101 with 100
subjects a case and 10 identifiers a subject. A cost past `CEILING` counts as `CEILING`.

Contents: the evidence contents (`contentBase64`, megabytes each) the operation may return,
multiplied in the same way; they have a budget of their own.

Depth counts the fields with a selection nested in one another: `{ viewer { agency { id } } }`
is 2 deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
    visit,
)

from casehub.api.execution.bounds import CONTENT_FIELDS, IDS, ITEM_BOUNDS, PAGE
from casehub.domain import validation as check
from casehub.domain.errors import ValidationFailed

PAGE_ARGUMENTS = ("first", "last")
# Fragments spreading fragments ten times each multiply the cost tenfold a level, and a page
# size may have 50 digits: past the largest integer any JSON reader holds exactly, a cost is
# refused all the same, and reporting it exactly would take numbers JSON encoders refuse.
CEILING = 2**53 - 1


@dataclass(frozen=True)
class BadPage:
    """A page size out of bounds: the argument's value node, its name and its value."""

    node: Node
    argument: str
    value: int


@dataclass(frozen=True)
class Measure:
    """What a selection would cost, how deep it nests and the evidence contents it holds."""

    cost: int = 0
    depth: int = 0
    contents: int = 0


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    max_page_size: int,
    bounds: Mapping[str, int | str],
) -> tuple[Measure, list[BadPage]]:
    """The operation's cost, depth and contents, and the page sizes over `max_page_size` (or
    under 1); `bounds` holds the length of each list field by `Type.field` (a list without one
    counts as `CEILING`)."""
    walk = _Walk(schema, document, operation, dict(variables), max_page_size, bounds)
    found = walk.selections(operation.selection_set, schema.get_root_type(operation.operation))
    return found, walk.bad_pages


@dataclass
class _Walk:
    """Cost and depth of one operation, fragments measured once each, in dependency order."""

    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    max_page_size: int
    bounds: Mapping[str, int | str]
    bad_pages: list[BadPage] = field(default_factory=list)
    fragments: dict[str, Measure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.variables = {**self._defaults(), **self.variables}
        definitions = {
            node.name.value: node
            for node in self.document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        # Bottom-up, so that measuring a fragment never recurses into another: a chain of
        # fragments spreading each other is as deep as the document is long.
        for name in _dependency_order(definitions):
            fragment = definitions[name]
            parent = self.schema.get_type(fragment.type_condition.name.value)
            self.fragments[name] = self.selections(fragment.selection_set, parent)

    def _defaults(self) -> dict[str, Any]:
        return {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in self.operation.variable_definitions or ()
            if definition.default_value is not None
        }

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Measure:
        """Sum of the costs, and the deepest nesting, of a selection set's fields."""
        cost = depth = contents = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                part = self.selections(selection.selection_set, narrowed)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                # Unknown or cyclic fragments count nothing: validation refuses them.
                part = self.fragments.get(selection.name.value, Measure())
            cost = min(cost + part.cost, CEILING)
            depth = max(depth, part.depth)
            contents = min(contents + part.contents, CEILING)
        return Measure(cost, depth, contents)

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        coordinate = f"{parent.name}.{node.name.value}" if parent else ""
        # Scalars cost nothing (evidence contents count apart); introspection is for tools
        # (and refused in production).
        if node.selection_set is None or node.name.value.startswith("__"):
            return Measure(contents=int(coordinate in CONTENT_FIELDS))
        definition = _field_of(parent, node.name.value)
        inner = self.selections(
            node.selection_set, get_named_type(definition.type) if definition else None
        )
        if definition is not None and isinstance(get_nullable_type(definition.type), GraphQLList):
            # A list of objects: each item is one object with its selection.
            items = self._items(node, coordinate, get_named_type(definition.type).name)
            cost = _times(items, 1 + inner.cost)
        else:
            items = self._page(node, definition)
            cost = min(1 + _times(items, inner.cost), CEILING)
        return Measure(cost, 1 + inner.depth, _times(items, inner.contents))

    def _items(self, node: FieldNode, coordinate: str, item_type: str) -> int:
        """How many items a list field may return."""
        bound = self.bounds.get(coordinate, ITEM_BOUNDS.get(item_type))
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if bound == IDS:
            ids = self._value(arguments["ids"]) if "ids" in arguments else None
            return len(ids) if isinstance(ids, list) else 1
        if bound == PAGE:
            return 1  # the connection around it multiplies by its page size
        # A list nobody bounded (the schema test forbids it) is refused rather than guessed.
        items = bound if isinstance(bound, int) else CEILING
        # A list narrowed to given ids holds at most one item an id.
        if "ids" in arguments and isinstance(ids := self._value(arguments["ids"]), list):
            items = min(items, len(ids))
        return items

    def _page(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """The page size of a connection, 1 for a field returning one object."""
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        names = [name for name in PAGE_ARGUMENTS if name in arguments]
        if not names and not (definition and set(PAGE_ARGUMENTS) & set(definition.args)):
            return 1
        sizes = [self._page_size(name, arguments[name]) for name in names]
        return max(sizes, default=check.page_size(None))

    def _page_size(self, name: str, value_node: Any) -> int:
        value = self._value(value_node)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON 100.0 is a valid Int
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            # Absent, null, or not an Int (which coercing the variables refuses).
            return check.page_size(None)
        try:
            return check.page_size(value, maximum=self.max_page_size)
        except ValidationFailed:
            self.bad_pages.append(BadPage(value_node, name, value))
            return max(value, 0)

    def _value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return value_from_ast_untyped(node, self.variables)


def _times(count: int, each: int) -> int:
    return min(count * each, CEILING)


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _dependency_order(definitions: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads; fragments in a cycle (or spreading
    one) are left out."""
    spreads = {name: _spread_names(node) & definitions.keys() for name, node in definitions.items()}
    ready = [name for name, needed in spreads.items() if not needed]
    order: list[str] = []
    while ready:
        done = ready.pop()
        order.append(done)
        for name, needed in spreads.items():
            if done in needed:
                needed.discard(done)
                if not needed:
                    ready.append(name)
    return order


def _spread_names(node: FragmentDefinitionNode) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_args: object) -> None:
            names.add(spread.name.value)

    visit(node, Spreads())
    return names
