"""The strawberry schema with its limits and policies."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig

from casehub.api.extensions import AuditReads, ErrorPolicy, Transports, Validation
from casehub.api.mutations import Mutation
from casehub.api.query import Query
from casehub.api.request_mutations import RequestMutation
from casehub.api.request_query import RequestQuery
from casehub.api.request_subscription import RequestSubscription
from casehub.api.request_types import CooperationRequest
from casehub.api.types import Agency, Case, CaseShare, CustodyEvent, Evidence, Identifier, Subject


@strawberry.type(name="Query", description="Everything an agency tool can read.")
class RootQuery(Query, RequestQuery):
    """The root query: cases and agencies, and cooperation requests."""


@strawberry.type(name="Mutation", description="Everything an agency tool can change.")
class RootMutation(Mutation, RequestMutation):
    """The root mutation: cases and sharing, and cooperation requests."""


def build_schema(
    *, development: bool, max_depth: int = 10, max_aliases: int = 15, max_tokens: int = 2000
) -> strawberry.Schema:
    """The schema; production turns off introspection and "did you mean" suggestions."""
    # Factories, not instances: an extension holds per-request state while it runs.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ErrorPolicy(suggestions=development),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=1024),
        lambda: Validation(maxsize=1024),
        Transports,
        AuditReads,
    ]
    if not development:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=RootQuery,
        mutation=RootMutation,
        subscription=RequestSubscription,
        types=[
            Agency,
            Case,
            Subject,
            Identifier,
            Evidence,
            CustodyEvent,
            CaseShare,
            CooperationRequest,
        ],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql."""
    return build_schema(development=True).as_str() + "\n"
