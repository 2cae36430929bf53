"""An executor that serves leaf fields without graphql-core's per-field machinery.

Most fields of a page (ids, titles, statuses, dates) are plain attributes of a view object
with a scalar or enum type, and most of the rest reveal a sealed value. graphql-core builds a
resolve-info object, parses arguments and walks `complete_value` for each of them; here such a
field is read (or revealed, through the same `Sealed.reveal` and so the same key check and read
audit) and coerced directly. Every other field (other resolvers, objects, lists, arguments)
takes the standard path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLField, GraphQLLeafType, GraphQLObjectType, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from graphql.type import GraphQLNonNull
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What strawberry names the resolver of a field that is a plain attribute (no resolver, no
# arguments, no field extension): it reads the attribute and ignores the info object.
_BASIC_RESOLVER = "_get_basic_result"
_REVEALS = "__casehub_reveals__"
_DEFINITION = "strawberry-definition"  # where strawberry keeps its field on a GraphQLField

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def reveals(attribute: str) -> Callable[[Resolver], Resolver]:
    """Mark a resolver that only returns `self.<attribute>.reveal(info.context.scope)`."""

    def mark(resolver: Resolver) -> Resolver:
        setattr(resolver, _REVEALS, attribute)
        return resolver

    return mark


@dataclass(frozen=True, slots=True)
class Shape:
    """How to serve a leaf field at once: read `attribute`, or reveal the sealed value in it."""

    leaf: GraphQLLeafType
    non_null: bool
    sealed: str | None  # the attribute holding a Sealed value, for revealing fields


def _shape(field: GraphQLField) -> Shape | None:
    """The short way to serve a field, when it has one."""
    kind = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if field.resolve is None or field.args or not is_leaf_type(inner):
        return None
    if getattr(field.resolve, "__name__", "") == _BASIC_RESOLVER:
        return Shape(inner, non_null, None)
    definition = (field.extensions or {}).get(_DEFINITION)
    resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
    sealed = getattr(resolver, _REVEALS, None)
    if sealed is None or getattr(definition, "extensions", None):
        return None
    return Shape(inner, non_null, sealed)


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with a short path for plain leaf fields."""

    # Per field definition (they live as long as the schema): its short way, or None.
    _shapes: dict[int, Shape | None] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Serve a plain or revealing leaf field at once; anything else the standard way."""
        node = field_details_list[0].node
        field = self.schema.get_field(parent_type, node.name.value)
        if field is None or node.arguments or self.middleware_manager:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        key = id(field)
        try:
            shape = self._shapes[key]
        except KeyError:
            shape = self._shapes[key] = _shape(field)
        if shape is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        try:
            if shape.sealed is None:
                value = field.resolve(source, None)  # type: ignore[misc]  # basic: info unused
            else:
                value = getattr(source, shape.sealed).reveal(self.context_value.scope)
            if value is None or value is Undefined:
                if shape.non_null:
                    name = f"{parent_type}.{node.name.value}"
                    raise TypeError(f"Cannot return null for non-nullable field {name}.")
                return None
            return self.complete_leaf_value(shape.leaf, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
