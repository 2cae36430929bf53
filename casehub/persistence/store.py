"""The persistence operations of one session: one facade over the per-area query classes, so
services reach every area through `scope.store` and one session, lock and transaction."""

from __future__ import annotations

from casehub.persistence.agencies.proofs import ProofQueries
from casehub.persistence.agencies.queries import AgencyQueries
from casehub.persistence.agencies.signing_keys import SigningKeyQueries
from casehub.persistence.audit.queries import AuditQueries
from casehub.persistence.cases.queries import CaseQueries
from casehub.persistence.deconfliction.queries import DeconflictionQueries
from casehub.persistence.documents.queries import DocumentQueries
from casehub.persistence.federation.directory import DirectoryQueries
from casehub.persistence.federation.inbox import InboxQueries
from casehub.persistence.federation.outbox import OutboxQueries
from casehub.persistence.federation.peers import PeerQueries
from casehub.persistence.keys.queries import KeyQueries
from casehub.persistence.requests.queries import RequestQueries


class Store(
    AgencyQueries,
    ProofQueries,
    SigningKeyQueries,
    CaseQueries,
    KeyQueries,
    RequestQueries,
    DeconflictionQueries,
    AuditQueries,
    DocumentQueries,
    PeerQueries,
    InboxQueries,
    OutboxQueries,
    DirectoryQueries,
):
    """The persistence operations of one session; services own the transactions."""
