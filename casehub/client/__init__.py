"""casehub.client: the typed Python client agency tools import (pip install 'casehub[client]').

Its operations are generated from schema.graphql by ariadne-codegen (`make client`, into
casehub.client.generated); CasehubClient adds the token and DPoP proofs, uploads, the live
inbox over graphql-transport-ws, agency signatures on request steps, and the tool's own
verification of every signature on a request (casehub.client.verify)."""

from casehub.client.client import CasehubClient
from casehub.client.errors import CasehubClientError, InboxClosed, NotFound, Refused
from casehub.client.generated import (
    GraphQLClientError,
    GraphQLClientGraphQLMultiError,
    GraphQLClientHttpError,
)
from casehub.client.verify import RequestVerification, SignatureCheck, StepCheck

__all__ = [
    "CasehubClient",
    "CasehubClientError",
    "GraphQLClientError",
    "GraphQLClientGraphQLMultiError",
    "GraphQLClientHttpError",
    "InboxClosed",
    "NotFound",
    "Refused",
    "RequestVerification",
    "SignatureCheck",
    "StepCheck",
]
