"""A cooperation request's signature bundle for the operator: the request's header, its receipt
chain and every agency signature on its steps with the hub's accreditation of each key, in one
document that casehub.crypto.bundles.verify_bundle checks offline.

The document (format casehub-bundle/1):

    {"format": "casehub-bundle/1",
     "request": {"id": "<global id>", "kind": "…", "priority": "…",
                 "requester": {"id": "<agency uuid>", "kind": "…"},
                 "requested": {"id": "<agency uuid>", "kind": "…"}},
     "receipts": <the casehub-receipts/1 export of the request>,
     "signatures": [{"event": 2, "role": "SIGNER" | "COUNTERSIGNER",
                     "statement": "…", "signature": "…", "publicKey": {<JWK>},
                     "accreditation": {"statement", "signature", "hubKey"} | null,
                     "revocation": {"statement", "signature"} | null}, ...],
     "policy": {"signedSteps": "<the hub's setting>", "mustSign": ["SUBMIT", ...],
                "statementSkewSeconds": 300},
     "hubKeys": {"receipts": JWKS, "accreditation": JWKS}}

"policy" and "hubKeys" are for the reader's convenience only: a verifier takes the keys from
its own trust file and the policy from its own choice.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from casehub.domain.requests.transitions import RequestAction
from casehub.domain.signatures.policy import SIGNABLE, must_sign
from casehub.domain.signatures.states import SignerRole
from casehub.persistence.tables import AgencySigningKeyRow, RequestEventRow, RequestSignatureRow
from casehub.services.audit import trail as audit
from casehub.services.requests.receipts import export_document, exported_events, receipt_of
from casehub.services.runtime import Scope

FORMAT = "casehub-bundle/1"


async def export_bundle(
    scope: Scope, *, request_id: UUID, request_global_id: str
) -> dict[str, Any]:
    """Read a request, its chain and its signatures (operator read, audited as
    bundle.export); NotFound when there is no such request."""
    async with audit.mutation(scope, "bundle.export") as entry:
        request, events = await exported_events(scope, entry, request_id=request_id)
        signatures = await scope.store.signatures_by_request([request_id])
        keys = {
            key.id: key
            for key in await scope.store.signing_keys_by_ids({row.key_id for row in signatures})
        }
        kinds = {
            agency.id: agency.kind
            for agency in await scope.store.agencies_by_ids(
                {request.requester_agency_id, request.requested_agency_id}
            )
        }
        entry.details = {"receipts": len(events), "signatures": len(signatures)}
    requested_kind = kinds[request.requested_agency_id]
    policy = scope.runtime.settings.signed_steps
    receipt_keys = scope.runtime.keys.receipt_public_keys()
    return {
        "format": FORMAT,
        "request": {
            "id": request_global_id,
            "kind": request.kind,
            "priority": request.priority,
            "requester": {
                "id": str(request.requester_agency_id),
                "kind": kinds[request.requester_agency_id],
            },
            "requested": {"id": str(request.requested_agency_id), "kind": requested_kind},
        },
        "receipts": export_document(
            request_global_id, [receipt_of(row) for row in events], receipt_keys
        ),
        "signatures": _signatures(events, signatures, keys),
        "policy": {
            "signedSteps": policy.value,
            "mustSign": [
                action
                for action in sorted(SIGNABLE)
                if must_sign(policy, action, request.priority, requested_kind)
            ],
            "statementSkewSeconds": scope.runtime.settings.statement_skew_seconds,
        },
        "hubKeys": {
            "receipts": receipt_keys,
            "accreditation": scope.runtime.keys.accreditation_public_keys(),
        },
    }


def _signatures(
    events: list[RequestEventRow],
    rows: list[RequestSignatureRow],
    keys: dict[UUID, AgencySigningKeyRow],
) -> list[dict[str, Any]]:
    """Every stored signature in event order, the approval's as the countersignature of the
    signed submission before it (as the hub's verification view shows them)."""
    numbers = {event.id: event.number for event in events}
    submitted = False
    found = []
    for row in sorted(rows, key=lambda row: (numbers.get(row.event_id, 0), row.created_at)):
        countersigns = row.action == RequestAction.APPROVE.value and submitted
        submitted = submitted or row.action == RequestAction.SUBMIT.value
        key = keys[row.key_id]
        found.append(
            {
                "event": numbers.get(row.event_id),
                "role": (SignerRole.COUNTERSIGNER if countersigns else SignerRole.SIGNER).value,
                "statement": row.statement,
                "signature": row.signature,
                "publicKey": json.loads(key.public_jwk),
                "accreditation": None
                if key.accreditation is None
                else {
                    "statement": key.accreditation,
                    "signature": key.accreditation_signature,
                    "hubKey": key.accreditation_key,
                },
                "revocation": None
                if key.revocation is None
                else {"statement": key.revocation, "signature": key.revocation_signature},
            }
        )
    return found
