"""The fast executor answers exactly what strawberry's own executor answers, errors included."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType

from casehub.api.execution.fast_path import FastExecutor, _shape, reveals


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    AMBER = "AMBER"


class Secret:
    """Stands for a Sealed value: reveals its text and notes the read in the scope."""

    def __init__(self, text: str | None) -> None:
        self.text = text

    def reveal(self, scope: list[str | None]) -> str | None:
        scope.append(self.text)
        return self.text


@strawberry.type
class Item:
    name: str
    note: str | None
    colour: Colour
    count: int
    tags: list[str]
    _secret: strawberry.Private[Secret]

    @strawberry.field
    @reveals("_secret")
    def secret(self, info: strawberry.Info) -> str | None:
        return self._secret.reveal(info.context.scope)

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
            Item(name="a", note=None, colour=Colour.RED, count=1, tags=["x"], _secret=Secret("s")),
            # A view that breaks its contract: null where the type says non-null.
            Item(name=None, note="n", colour=Colour.AMBER, count=2, tags=[], _secret=Secret(None)),  # type: ignore[arg-type]
            Item(
                name="c",
                note="m",
                colour="PURPLE",  # type: ignore[arg-type]  # not a Colour: coercion fails
                count=3,
                tags=["y", "z"],
                _secret=Secret("t"),
            ),
        ]

    @strawberry.field
    def one(self) -> Item:
        return Item(
            name="solo", note=None, colour=Colour.AMBER, count=7, tags=[], _secret=Secret("x")
        )


DOCUMENTS = [
    "{ one { name note colour count tags shout(times: 2) } }",
    "{ one { n: name again: name name } }",
    "{ items { name } }",
    "{ items { note colour count } }",
    "{ items { colour } }",
    "{ one { broken name } }",
    "{ one { __typename name } items { __typename count } }",
    "{ one { name @skip(if: true) note @include(if: false) count } }",
    "{ one { secret } items { secret note } }",
]


@dataclass
class Context:
    scope: list[str | None]


def _run(document: str, executor: Any) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=executor)
    reads: list[str | None] = []
    result = schema.execute_sync(document, context_value=Context(reads))
    return {
        "data": result.data,
        "errors": [(error.message, error.path) for error in result.errors or []],
        "reads": reads,
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
        ("name", "plain"),
        ("note", "plain"),
        ("colour", "plain"),
        ("count", "plain"),
        ("secret", "reveals _secret"),
        ("tags", None),
        ("shout", None),
        ("broken", None),
    ],
)
def test_only_plain_and_revealing_leaves_take_the_short_path(field: str, fast: str | None) -> None:
    item = strawberry.Schema(query=Query)._schema.get_type("Item")
    assert isinstance(item, GraphQLObjectType)
    shape = _shape(item.fields[field])
    way = None if shape is None else "plain" if shape.sealed is None else f"reveals {shape.sealed}"
    assert way == fast
