"""Query limits, checked on the parsed document before validation and before any resolver runs:
depth, aliases, directives, fields repeated in a selection set, number literals, page sizes, a
computed cost and the evidence contents asked for (casehub.api.execution.cost says how an
operation is measured)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Node,
    SelectionSetNode,
    Visitor,
    get_operation_ast,
    visit,
)

from casehub.api.execution import bounds, cost
from casehub.config import Settings

LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
# No Int or Float needs more characters; longer literals only burn CPU (Python refuses to
# convert integers of more than 4,300 digits).
MAX_NUMBER_CHARS = 50


@dataclass(frozen=True)
class QueryLimits:
    """The limits of one schema (casehub.config.Settings holds the defaults)."""

    depth: int = 10
    aliases: int = 15
    tokens: int = 2000
    directives: int = 50
    duplicate_fields: int = 10
    cost: int = 60_000
    page_size: int = 100
    document_chars: int = 100_000
    list_items: int = 100
    contents: int = 4
    # The length of every list field (casehub.api.execution.bounds), from the default settings
    # unless given: built without reading the environment.
    list_bounds: Mapping[str, int | str] = field(
        default_factory=lambda: bounds.resolved(Settings.model_construct())
    )

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        """The limits the settings ask for."""
        return cls(
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            tokens=settings.max_query_tokens,
            directives=settings.max_query_directives,
            duplicate_fields=settings.max_duplicate_fields,
            cost=settings.max_query_cost,
            page_size=settings.max_page_size,
            document_chars=settings.max_document_chars,
            list_items=settings.max_list_items,
            contents=settings.max_evidence_contents,
            list_bounds=bounds.resolved(settings),
        )


@dataclass(frozen=True)
class Analysis:
    """What a document would cost, and the limits it breaks (refused when any)."""

    cost: int | None  # None when the operation to run cannot be told (validation says why)
    errors: list[GraphQLError]


def _limit_error(message: str, limit: str, maximum: int, nodes: Node | None = None) -> GraphQLError:
    """A top-level refusal naming the limit and its maximum."""
    return GraphQLError(
        message, nodes, extensions={"code": LIMIT_EXCEEDED, "limit": limit, "max": maximum}
    )


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
) -> Analysis:
    """Measure the document and the operation it would run against the limits."""
    counts = _Counts()
    visit(document, counts)
    errors = counts.errors(limits)
    operation = get_operation_ast(document, operation_name)
    if operation is None or counts.long_numbers:
        return Analysis(None, errors)
    measure, bad_pages = cost.measure(
        schema, document, operation, variables or {}, limits.page_size, limits.list_bounds
    )
    errors += [
        _limit_error(
            f"`{page.argument}` must be between 1 and {limits.page_size}, not {page.value}.",
            "pageSize",
            limits.page_size,
            page.node,
        )
        for page in bad_pages
    ]
    if measure.depth > limits.depth:
        errors.append(
            _limit_error(
                f"The operation nests {measure.depth} levels deep; at most {limits.depth}.",
                "depth",
                limits.depth,
                operation,
            )
        )
    if measure.cost > limits.cost:
        errors.append(
            _limit_error(
                f"The operation would cost {measure.cost} (at most {limits.cost}): ask for "
                "smaller pages or fewer nested objects.",
                "cost",
                limits.cost,
                operation,
            )
        )
    if measure.contents > limits.contents:
        errors.append(
            _limit_error(
                f"The operation may return {measure.contents} evidence contents (at most "
                f"{limits.contents}, each up to the evidence size limit): ask for "
                "`contentBase64` of fewer items, e.g. one item through `node(id:)`.",
                "evidenceContents",
                limits.contents,
                operation,
            )
        )
    return Analysis(measure.cost, errors)


class _Counts(Visitor):
    """Aliases, directives, the most repeated response key of a selection set and over-long
    number literals anywhere in the document."""

    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0
        self.repeated: tuple[int, str, SelectionSetNode] | None = None
        self.long_numbers: list[Node] = []

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        self.aliases += node.alias is not None

    def enter_directive(self, _node: DirectiveNode, *_args: object) -> None:
        self.directives += 1

    def enter_selection_set(
        self, node: SelectionSetNode, _key: object, parent: object, *_args: object
    ) -> None:
        # Validation compares the fields of one response key pairwise (a field asked for 500
        # times is some 125,000 comparisons) before they merge into one. An inline fragment's
        # selections merge into the enclosing selection set's, and are counted there.
        if isinstance(parent, InlineFragmentNode):
            return
        keys = Counter(_response_keys(node))
        if keys:
            key, count = keys.most_common(1)[0]
            if self.repeated is None or count > self.repeated[0]:
                self.repeated = (count, key, node)

    def enter_int_value(self, node: IntValueNode, *_args: object) -> None:
        self._number(node)

    def enter_float_value(self, node: FloatValueNode, *_args: object) -> None:
        self._number(node)

    def _number(self, node: IntValueNode | FloatValueNode) -> None:
        if len(node.value) > MAX_NUMBER_CHARS:
            self.long_numbers.append(node)

    def errors(self, limits: QueryLimits) -> list[GraphQLError]:
        found = [
            _limit_error(
                f"A number literal of more than {MAX_NUMBER_CHARS} characters.",
                "numberLength",
                MAX_NUMBER_CHARS,
                node,
            )
            for node in self.long_numbers
        ]
        if self.aliases > limits.aliases:
            found.append(
                _limit_error(
                    f"The document holds {self.aliases} aliases; at most {limits.aliases}.",
                    "aliases",
                    limits.aliases,
                )
            )
        if self.directives > limits.directives:
            found.append(
                _limit_error(
                    f"The document holds {self.directives} directives; at most "
                    f"{limits.directives}.",
                    "directives",
                    limits.directives,
                )
            )
        if self.repeated and self.repeated[0] > limits.duplicate_fields:
            count, key, node = self.repeated
            found.append(
                _limit_error(
                    f"A selection set asks for `{key}` {count} times; at most "
                    f"{limits.duplicate_fields}.",
                    "duplicateFields",
                    limits.duplicate_fields,
                    node,
                )
            )
        return found


def _response_keys(selection_set: SelectionSetNode) -> Iterator[str]:
    """The response keys a selection set asks for, its inline fragments' included; a fragment
    spread counts as `...Name`."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield (selection.alias or selection.name).value
        elif isinstance(selection, InlineFragmentNode):
            yield from _response_keys(selection.selection_set)
        else:
            assert isinstance(selection, FragmentSpreadNode)
            yield f"...{selection.name.value}"
