"""The cost and depth of one operation, measured on its document before anything runs.

Cost, GitHub style: every field that returns an object costs 1, scalars and enums nothing; a
connection (a field taking `first` or `last`) multiplies the cost of its selection by its page
size (`first`, 20 when absent), and `nodes(ids:)` by the number of ids. Each alias and each
fragment spread counts again. `{ cases(first: 100) { edges { node { id owner { code } } } } }`
costs 1 + 100 * (1 + 1 + 1) = 301. Depth counts the fields with a selection nested in one
another: `{ viewer { agency { id } } }` is 2 deep. A cost past `CEILING` counts as `CEILING`.
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
    value_from_ast_untyped,
    visit,
)

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
    """What a selection would cost and how deep it nests."""

    cost: int = 0
    depth: int = 0


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    max_page_size: int,
) -> tuple[Measure, list[BadPage]]:
    """The operation's cost and depth, and the page sizes over `max_page_size` (or under 1)."""
    walk = _Walk(schema, document, operation, dict(variables), max_page_size)
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
        cost = depth = 0
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
        return Measure(cost, depth)

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        # Scalars cost nothing; introspection is for tools (and refused in production).
        if node.selection_set is None or node.name.value.startswith("__"):
            return Measure()
        definition = _field_of(parent, node.name.value)
        inner = self.selections(
            node.selection_set, get_named_type(definition.type) if definition else None
        )
        cost = min(1 + self._multiplier(node, definition) * inner.cost, CEILING)
        return Measure(cost, 1 + inner.depth)

    def _multiplier(self, node: FieldNode, definition: GraphQLField | None) -> int:
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if "ids" in arguments:
            ids = self._value(arguments["ids"])
            return len(ids) if isinstance(ids, list) else 1
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
