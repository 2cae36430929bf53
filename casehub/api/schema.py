"""The strawberry schema with its limits and policies."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import strawberry
from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from casehub.api.agencies.mutations import AgencyMutation
from casehub.api.agencies.queries import AgencyQuery
from casehub.api.audit.queries import AuditQuery
from casehub.api.cases.mutations import CaseMutation
from casehub.api.cases.queries import CaseQuery
from casehub.api.deconfliction.mutations import DeconflictionMutation
from casehub.api.deconfliction.queries import DeconflictionQuery
from casehub.api.deconfliction.subscriptions import DeconflictionSubscription
from casehub.api.execution.extensions import (
    AuditReads,
    ErrorPolicy,
    Limits,
    Parsing,
    Transports,
    Validation,
)
from casehub.api.execution.fast_path import FastExecutor
from casehub.api.execution.limits import QueryLimits
from casehub.api.execution.plans.extension import CompiledPlans
from casehub.api.nodes import NODES, NodeQuery
from casehub.api.requests.mutations import RequestMutation
from casehub.api.requests.queries import RequestQuery
from casehub.api.requests.subscriptions import SOCKET_DESCRIPTION, RequestSubscription


@strawberry.type(name="Query", description="Everything an agency tool can read.")
class RootQuery(AgencyQuery, NodeQuery, CaseQuery, RequestQuery, AuditQuery, DeconflictionQuery):
    """The root query: cases and agencies, and cooperation requests."""


@strawberry.type(name="Mutation", description="Everything an agency tool can change.")
class RootMutation(AgencyMutation, CaseMutation, RequestMutation, DeconflictionMutation):
    """The root mutation: cases and sharing, and cooperation requests."""


@strawberry.type(name="Subscription", description=SOCKET_DESCRIPTION)
class RootSubscription(RequestSubscription, DeconflictionSubscription):
    """The root subscription: request events and hit notices."""


# strawberry's Upload scalar, described with the one header a client must add to send it: a
# client developer reads the schema, not the README.
UPLOAD = dataclasses.replace(
    UploadDefinition,
    description=(
        "A file, sent as a part of a multipart request (the GraphQL multipart request spec). "
        "The request must carry the header `Apollo-Require-Preflight: true` (or "
        "`X-Casehub-Csrf` with any value), which no other site can make a browser send; "
        "without it the answer is 400 PREFLIGHT_REQUIRED."
    ),
)


class Schema(strawberry.Schema):
    """strawberry's schema without strawberry's error log: the error policy logs unexpected
    errors itself, with the request id; request errors are the caller's to read, and logging
    them would copy the document's text, which may hold protected values, into the logs."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing (see the class)."""


def build_schema(
    *,
    development: bool,
    limits: QueryLimits = QueryLimits(),
    extra: Sequence[Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    """The schema with its query limits (and `extra` extensions, run last); production turns
    off introspection and "did you mean" suggestions."""
    # Factories, not instances: an extension holds per-request state while it runs. The
    # error policy comes first so that its after-hook, run last, sees every error.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ErrorPolicy(suggestions=development),
        lambda: Parsing(limits),
        lambda: Limits(limits),
        lambda: Validation(maxsize=1024),
        Transports,
        AuditReads,
    ]
    if not development:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    extensions.extend(extra)
    extensions.append(CompiledPlans)  # last: it only sets the result of a registered query
    return Schema(
        query=RootQuery,
        mutation=RootMutation,
        subscription=RootSubscription,
        types=[node.graphql for node in NODES.values()],
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=FastExecutor,
        scalar_overrides={Upload: UPLOAD},
    )


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql."""
    return build_schema(development=True).as_str() + "\n"
