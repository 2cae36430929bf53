"""An executor that serves plain leaf fields without graphql-core's per-field machinery.

Most fields of a page (ids, titles, statuses, dates) are plain attributes of a view object
with a scalar or enum type. graphql-core builds a resolve-info object, parses arguments and
walks `complete_value` for each of them; here such a field is read and coerced directly. Every
other field (resolvers, objects, lists, arguments) takes the standard path, so authorization
and decryption, which live in resolvers and services, are untouched.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLLeafType, GraphQLObjectType, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from graphql.type import GraphQLNonNull
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What strawberry names the resolver of a field that is a plain attribute (no resolver, no
# arguments, no field extension): it reads the attribute and ignores the info object.
_BASIC_RESOLVER = "_get_basic_result"


def _plain_leaf(field: GraphQLField) -> tuple[GraphQLLeafType, bool] | None:
    """(leaf type, non-null) when the field is a plain attribute of scalar or enum type."""
    resolve = field.resolve
    if resolve is None or getattr(resolve, "__name__", "") != _BASIC_RESOLVER or field.args:
        return None
    kind = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    return (inner, non_null) if is_leaf_type(inner) else None


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with a short path for plain leaf fields."""

    # Per field definition (they live as long as the schema): its plain-leaf shape or None.
    _shapes: dict[int, tuple[GraphQLLeafType, bool] | None] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Read and coerce a plain leaf field at once; anything else the standard way."""
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
            shape = self._shapes[key] = _plain_leaf(field)
        if shape is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        leaf, non_null = shape
        try:
            value = field.resolve(source, None)  # type: ignore[misc]  # basic: info unused
            if value is None or value is Undefined:
                if non_null:
                    name = f"{parent_type}.{node.name.value}"
                    raise TypeError(f"Cannot return null for non-nullable field {name}.")
                return None
            return self.complete_leaf_value(leaf, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
