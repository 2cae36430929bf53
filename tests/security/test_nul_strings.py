"""A NUL character in any text argument, generated from the schema: every String (and ID)
argument or input field, at any depth, of every query and mutation is sent "a\\u0000b", once as
a variable and once inline in the document. PostgreSQL text cannot hold NUL, so an unchecked one
used to reach the database and come back INTERNAL (`auditEvents(filter: {action: "\\u0000"})`).
Each must be refused as a typed error (never INTERNAL), with nothing written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from casehub.api.schema import build_schema
from casehub.domain.enums import Role
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import Api
from tests.conftest import GraphQL, World
from tests.security.gate_support import app_of, calling, with_settings
from tests.support import nothing_written

SCHEMA: GraphQLSchema = build_schema(development=True)._schema
NUL = "a\u0000b"
TEXT_SCALARS = ("String", "ID")


@dataclass(frozen=True)
class EnumName:
    """An enum value, printed bare in a document."""

    name: str


def _placeholder(graphql_type: GraphQLInputType, an_id: str) -> Any:
    """A plausible value of the type (required input fields only)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _placeholder(graphql_type.of_type, an_id)
    if isinstance(graphql_type, GraphQLList):
        return [_placeholder(graphql_type.of_type, an_id)]
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {
            name: _placeholder(spec.type, an_id)
            for name, spec in graphql_type.fields.items()
            if isinstance(spec.type, GraphQLNonNull)
        }
    if isinstance(graphql_type, GraphQLEnumType):
        return EnumName(next(iter(graphql_type.values)))
    assert isinstance(graphql_type, GraphQLScalarType)
    return {
        "String": "x",
        "ID": an_id,
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "DateTime": "2030-01-01T00:00:00Z",
        "Upload": None,
    }[graphql_type.name]


def _text_paths(
    arguments: dict[str, GraphQLArgument] | dict[str, GraphQLInputField],
) -> list[tuple[str, ...]]:
    """Paths to every String or ID argument or input field, at any depth."""
    paths: list[tuple[str, ...]] = []
    for name, spec in arguments.items():
        named = get_named_type(spec.type)
        if named.name in TEXT_SCALARS:
            paths.append((name,))
        elif isinstance(named, GraphQLInputObjectType):
            paths += [(name, *inner) for inner in _text_paths(named.fields)]
    return paths


def _with_nul(graphql_type: GraphQLInputType, path: tuple[str, ...], value: Any, an_id: str) -> Any:
    """`value` with the NUL string at `path` (one-element lists on the way)."""
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, GraphQLList):
        inner = value[0] if isinstance(value, list) and value else None
        return [_with_nul(graphql_type.of_type, path, inner, an_id)]
    if not path:
        return NUL
    assert isinstance(graphql_type, GraphQLInputObjectType)
    given = dict(value or _placeholder(graphql_type, an_id))
    field = graphql_type.fields[path[0]]
    given[path[0]] = _with_nul(field.type, path[1:], given.get(path[0]), an_id)
    return given


def _literal(value: Any) -> str:
    """A GraphQL literal of a JSON-like value (JSON string escapes are GraphQL's too)."""
    if isinstance(value, EnumName):
        return value.name
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_literal(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return json.dumps(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, EnumName):
        return value.name
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _cases() -> list[tuple[str, str, tuple[str, ...]]]:
    cases = []
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert isinstance(root, GraphQLObjectType)
        for name, spec in root.fields.items():
            cases += [(kind, name, path) for path in _text_paths(spec.args)]
    return cases


CASES = _cases()


def test_the_generated_cases_cover_known_text_arguments() -> None:
    """The generator finds text arguments at the top and inside inputs (it is not empty)."""
    found = {(kind, name, ".".join(path)) for kind, name, path in CASES}
    assert ("query", "auditEvents", "filter.action") in found
    assert ("mutation", "openCase", "input.title") in found
    assert len(found) > 50


def _document(
    kind: str, name: str, path: tuple[str, ...], an_id: str, inline: bool
) -> tuple[str, dict[str, Any]]:
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    spec = root.fields[name]
    values: dict[str, Any] = {
        arg: _placeholder(argument.type, an_id)
        for arg, argument in spec.args.items()
        if isinstance(argument.type, GraphQLNonNull) or arg == path[0]
    }
    values[path[0]] = _with_nul(spec.args[path[0]].type, path[1:], values[path[0]], an_id)
    named = get_named_type(spec.type)
    selection = ""
    if not is_leaf_type(named):
        has_errors = isinstance(named, GraphQLObjectType) and "errors" in named.fields
        selection = "{ __typename errors { code } }" if has_errors else "{ __typename }"
    if inline:
        arguments = ", ".join(f"{arg}: {_literal(value)}" for arg, value in values.items())
        return f"{kind} {{ {name}({arguments}) {selection} }}", {}
    declared = ", ".join(f"${arg}: {spec.args[arg].type}" for arg in values)
    arguments = ", ".join(f"{arg}: ${arg}" for arg in values)
    return (
        f"{kind}({declared}) {{ {name}({arguments}) {selection} }}",
        {arg: _jsonable(value) for arg, value in values.items()},
    )


def _refused(body: dict[str, Any]) -> bool:
    """A typed top-level error, or a VALIDATION user error in the payload."""
    errors = body.get("errors") or []
    if errors:
        return all(
            error.get("extensions", {}).get("code") not in (None, "INTERNAL") for error in errors
        )
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            codes = {error["code"] for error in payload.get("errors") or []}
            if "VALIDATION" in codes:
                return True
    return False


@pytest.fixture
async def http(runtime: Runtime) -> Any:
    """The app with rate limits out of the way (hundreds of calls in a row)."""
    fast = with_settings(runtime, rate_limit_per_second=100_000, rate_limit_burst=100_000)
    async with calling(app_of(fast)) as client:
        yield client


@pytest.mark.postgres
async def test_no_text_argument_takes_a_nul(
    runtime: Runtime, world: World, gql: GraphQL, http: httpx.AsyncClient
) -> None:
    owner = await world.agency("NUL")
    async with open_scope(runtime) as scope:
        _id, token = await auth.issue_token(scope, agency_code=owner.code, roles=list(Role))
    case = await Api(world, gql).open_case(owner.token)
    failures = []
    async with nothing_written(runtime):
        for kind, name, path in CASES:
            for inline in (False, True):
                query, variables = _document(kind, name, path, case["id"], inline)
                response = await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body = response.json() if response.status_code < 500 else {}
                if response.status_code >= 500 or not _refused(body):
                    failures.append((name, ".".join(path), inline, response.status_code, body))
    assert failures == []
