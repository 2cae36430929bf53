"""The cost walk counts every list at its bound: nested plain lists multiply, each item is one
object, and evidence contents are counted apart with the same multipliers."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse

from casehub.api.execution import bounds, cost
from casehub.api.schema import build_schema
from casehub.config import Settings

# Small bounds, so that the expected numbers can be read off the documents.
BOUNDS: dict[str, int | str] = {
    **bounds.resolved(Settings.model_construct()),
    "Case.subjects": 3,
    "Case.evidence": 4,
    "Case.shares": 2,
    "Subject.identifiers": 5,
    "Evidence.custody": 6,
    "CooperationRequest.evidence": 7,
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(development=False)._schema


def measured(
    schema: GraphQLSchema,
    query: str,
    variables: dict[str, Any] | None = None,
    table: dict[str, int | str] = BOUNDS,
) -> cost.Measure:
    document = parse(query)
    [operation] = [
        node for node in document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    found, bad_pages = cost.measure(schema, document, operation, variables or {}, 100, table)
    assert bad_pages == []
    return found


CASE = '{ node(id: "c") { ... on Case { %s } } }'


@pytest.mark.parametrize(
    ("query", "variables", "expected_cost", "expected_contents"),
    [
        # One object: 1 and its selection.
        (CASE % "id owner { code }", None, 1 + 1, 0),
        # A plain list of objects: each item one object.
        (CASE % "subjects { id }", None, 1 + 3, 0),
        # Nested plain lists multiply: 3 subjects of 1 + 5 identifiers each.
        (CASE % "subjects { identifiers { value } }", None, 1 + 3 * (1 + 5), 0),
        # Back to the case and down again: every level multiplies.
        (
            CASE % "subjects { case { subjects { case { subjects { id } } } } }",
            None,
            1 + 3 * (1 + 1 + 3 * (1 + 1 + 3)),
            0,
        ),
        # Siblings add up.
        (CASE % "subjects { id } shares { id } evidence { id }", None, 1 + 3 + 2 + 4, 0),
        (CASE % "evidence { custody { actorAgency { code } } }", None, 1 + 4 * (1 + 6 * 2), 0),
        # Evidence content: no cost, but counted with the same multipliers.
        (CASE % "evidence { contentBase64 }", None, 1 + 4, 4),
        (
            '{ nodes(ids: ["c", "c"]) { ... on Case { evidence { contentBase64 } } } }',
            None,
            2 * (1 + 4),
            2 * 4,
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on CooperationRequest { "
            "evidence { contentBase64 } } } }",
            {"ids": ["r"] * 10},
            10 * (1 + 7),
            10 * 7,
        ),
        ('{ node(id: "e") { ... on Evidence { contentBase64 } } }', None, 1, 1),
        # A list narrowed to given ids holds at most one item an id.
        (
            '{ node(id: "r") { ... on CooperationRequest { evidence(ids: ["a", "b"]) '
            "{ contentBase64 } } } }",
            None,
            1 + 2,
            2,
        ),
        (
            'query($e: [ID!]) { node(id: "r") { ... on CooperationRequest { evidence(ids: $e) '
            "{ contentBase64 } } } }",
            {"e": None},
            1 + 7,
            7,
        ),
        # A connection multiplies its selection by its page; its edges count once each.
        (
            "{ cases(first: 10) { edges { node { subjects { id } } } } }",
            None,
            1 + 10 * (1 + 1 + 3),
            0,
        ),
        (
            "{ cases(first: 2) { edges { node { evidence { contentBase64 } } } } }",
            None,
            1 + 2 * (1 + 1 + 4),
            2 * 4,
        ),
        # Fragments count at each spread.
        (
            "fragment S on Case { subjects { id } } "
            '{ a: node(id: "c") { ...S } b: node(id: "d") { ...S } }',
            None,
            2 * (1 + 3),
            0,
        ),
        # Payload errors are a list too (10 at most).
        (
            'mutation { openCase(input: {reference: "r", title: "t", summary: "s", '
            "category: FRAUD}) { case { id } errors { code } } }",
            None,
            1 + 1 + 10,
            0,
        ),
        # Lists of scalars and enums cost nothing.
        ("{ viewer { roles name } }", None, 1, 0),
    ],
)
def test_lists_count_at_their_bound(
    schema: GraphQLSchema,
    query: str,
    variables: dict[str, Any] | None,
    expected_cost: int,
    expected_contents: int,
) -> None:
    found = measured(schema, query, variables)
    assert (found.cost, found.contents) == (expected_cost, expected_contents)


def test_a_list_without_a_bound_costs_the_ceiling(schema: GraphQLSchema) -> None:
    """A list field nobody bounded is refused rather than guessed."""
    unbounded = {name: bound for name, bound in BOUNDS.items() if name != "Case.subjects"}
    assert measured(schema, CASE % "subjects { id }", table=unbounded).cost == cost.CEILING


def test_the_default_bounds_make_the_reported_repro_cost_millions(schema: GraphQLSchema) -> None:
    """Issue 11's document reported cost 10; at the real bounds it is refused by far."""
    query = (
        "{ cases(first: 1) { edges { node { subjects { case { subjects { case { subjects "
        "{ case { owner { id } } } } } } } } } } }"
    )
    found = measured(schema, query, table=bounds.resolved(Settings.model_construct()))
    assert found.cost == 1 + 1 * (1 + 1 + 100 * (1 + 1 + 100 * (1 + 1 + 100 * (1 + 1 + 1))))
