"""The fast executor answers exactly what strawberry's own executor answers, errors included."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType

from casehub.api.fast_path import FastExecutor, _plain_leaf


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    AMBER = "AMBER"


@strawberry.type
class Item:
    name: str
    note: str | None
    colour: Colour
    count: int
    tags: list[str]

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("resolver failed")


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="a", note=None, colour=Colour.RED, count=1, tags=["x"]),
            # A view that breaks its contract: null where the type says non-null.
            Item(name=None, note="n", colour=Colour.AMBER, count=2, tags=[]),  # type: ignore[arg-type]
            Item(name="c", note="m", colour="PURPLE", count=3, tags=["y", "z"]),  # type: ignore[arg-type]
        ]

    @strawberry.field
    def one(self) -> Item:
        return Item(name="solo", note=None, colour=Colour.AMBER, count=7, tags=[])


DOCUMENTS = [
    "{ one { name note colour count tags shout(times: 2) } }",
    "{ one { n: name again: name name } }",
    "{ items { name } }",
    "{ items { note colour count } }",
    "{ items { colour } }",
    "{ one { broken name } }",
    "{ one { __typename name } items { __typename count } }",
    "{ one { name @skip(if: true) note @include(if: false) count } }",
]


def _run(document: str, executor: Any) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=executor)
    result = schema.execute_sync(document)
    return {
        "data": result.data,
        "errors": [(error.message, error.path) for error in result.errors or []],
    }


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_fast_executor_answers_like_strawberrys(document: str) -> None:
    assert _run(document, FastExecutor) == _run(document, None)


def test_a_null_in_a_non_null_leaf_is_a_located_error_that_nulls_the_parent() -> None:
    answer = _run("{ items { name } }", FastExecutor)
    assert answer["data"] is None
    assert answer["errors"] == [
        ("Cannot return null for non-nullable field Item.name.", ["items", 1, "name"])
    ]


@pytest.mark.parametrize(
    ("field", "fast"),
    [
        ("name", True),
        ("note", True),
        ("colour", True),
        ("count", True),
        ("tags", False),
        ("shout", False),
        ("broken", False),
    ],
)
def test_only_plain_leaf_attributes_take_the_short_path(field: str, fast: bool) -> None:
    item = strawberry.Schema(query=Query)._schema.get_type("Item")
    assert isinstance(item, GraphQLObjectType)
    assert (_plain_leaf(item.fields[field]) is not None) is fast
