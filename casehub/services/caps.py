"""The most items each stored list may hold, as the writes enforce it and the reads apply it.

The API's cost of a query multiplies each list by these numbers (casehub.api.execution.bounds), so
they must hold for every answer: the writes refuse an item past its cap (counted under the row lock
of the case or request, so concurrent writers cannot both take the last place), and the reads ask
the database for at most that many items of each parent, which also holds for data stored before a
cap was lowered. Lists that grow with the settings are functions of them; the others follow from the
rules.
"""

from __future__ import annotations

from casehub.config import Settings
from casehub.domain.audit.access import SHOWN_DETAILS
from casehub.domain.bounds import longest_path
from casehub.domain.requests.content import EVIDENCE_MAX
from casehub.domain.requests.transitions import TRANSITIONS, RequestStatus
from casehub.services.audit.trail import READS_PER_EVENT

# Identifiers are only added with their subject, and addSubject takes at most this many: a
# person's phones, handles and wallets; more are more subjects (or another case).
IDENTIFIERS_PER_SUBJECT = 10
# Evidence copies: the ATTACHED ones of the draft and the SUPPLIED ones of the fulfilment, each
# at most EVIDENCE_MAX and each written once.
EVIDENCE_PER_REQUEST = 2 * EVIDENCE_MAX
# Steps of a request other than messages: its creation and the longest run of the state machine.
TRANSITION_EVENTS = 1 + longest_path(TRANSITIONS, RequestStatus.DRAFT)
# A hit notice lists the holder's cases that hold the identifier, the first ones by id; the
# holder finds the others with an identifier search.
HIT_NOTICE_CASES = 20  # (named in the field's description)
# A hit check answers, per identifier, at most this many holding agencies (by id).
HIT_AGENCIES = 25  # (named in the field's description)
# Decryptions of one request are audited in events of at most this many objects each.
FIELD_READS_PER_EVENT = READS_PER_EVENT
# The details an administrator reads of an event: its allow-listed keys.
AUDIT_DETAILS = len(SHOWN_DETAILS)
# Keys an agency registers over its life: they are kept, revoked ones too (old signatures must
# still verify), so the count is bounded rather than the keys in force.
SIGNING_KEYS_PER_AGENCY = 100
# Signatures shown for one step: its own, and for an approval the submission's it countersigns.
SIGNATURES_PER_STEP = 2


def subjects_per_case(settings: Settings) -> int:
    """Subjects of one case."""
    return settings.max_subjects_per_case


def evidence_per_case(settings: Settings) -> int:
    """Evidence items of one case."""
    return settings.max_evidence_per_case


def custody_per_evidence(settings: Settings) -> int:
    """Custody entries of one evidence item."""
    return settings.max_custody_events_per_evidence


def shares_per_case(settings: Settings) -> int:
    """Shares of one case, revoked ones included."""
    return settings.max_shares_per_case


def messages_per_request(settings: Settings) -> int:
    """Thread entries of one request: the messages posted, and the one decline or withdrawal
    reason or fulfilment message a request can end with."""
    return settings.max_messages_per_request + 1


def events_per_request(settings: Settings) -> int:
    """Events of one request: one per message posted, and the steps of the state machine."""
    return settings.max_messages_per_request + TRANSITION_EVENTS
