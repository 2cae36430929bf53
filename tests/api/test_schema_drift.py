"""The committed schema.graphql must match the code, and every type and field is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from casehub.api.schema import build_schema, sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_code():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "schema.graphql is stale: run `make schema` and commit it"


def test_every_type_and_field_has_a_description():
    schema = build_schema(development=True)._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            missing += [
                f"{name}.{field}"
                for field, spec in graphql_type.fields.items()
                if not spec.description
            ]
        if isinstance(graphql_type, GraphQLEnumType):
            continue
    assert missing == []
