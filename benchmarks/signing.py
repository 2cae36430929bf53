"""Agency signatures in the benchmark: the requesting agency's keys, registered and accredited
through casehub's use-cases while seeding, and a submission's signature made as an agency tool
makes it (casehub.client.signing) from the draft as the hub returned it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from casehub.client.generated import RequestContent
from casehub.client.generated.enums import EvidenceRole
from casehub.client.signing import sign_step, step_content
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes
from casehub.services.agencies import signing_keys
from casehub.services.runtime import Principal, Runtime, open_scope

# Long enough for any run: a signature outside the accreditation would be refused.
ACCREDITED_FOR = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Submitter:
    """The requesting side of the submit workloads: the writer's agency and principal (whom
    the statements name), its accredited keys, and the agency its requests go to."""

    agency: UUID
    principal: UUID
    keys: Mapping[SigningAlgorithm, AgencyPrivateKey]
    requested: UUID


async def accredited_keys(
    runtime: Runtime, admin: Principal
) -> dict[SigningAlgorithm, AgencyPrivateKey]:
    """A new key of each algorithm for the admin's agency, registered by the admin and
    accredited by the operator, as `casehub agency keygen` and the hub's admin would."""
    keys = {}
    for algorithm in SigningAlgorithm:
        key = AgencyPrivateKey.generate(algorithm)
        public = statement_bytes(key.public.to_jwk()).decode("ascii")
        async with open_scope(runtime, admin) as scope:
            registered = await signing_keys.register_signing_key(scope, public_key=public)
        async with open_scope(runtime) as scope:
            await signing_keys.accredit_signing_key(
                scope,
                key_id=registered.id,
                not_before=None,
                not_after=scope.now + ACCREDITED_FOR,
                as_operator=True,
            )
        keys[algorithm] = key
    return keys


def submission_signature(
    key: AgencyPrivateKey, submitter: Submitter, draft: dict[str, Any]
) -> dict[str, str]:
    """The StepSignatureInput of submitting `draft` (the request as the hub returned it, with
    the fields of casehub.client's RequestContent): a fresh nonce, issued now."""
    read = RequestContent.model_validate(draft)
    attached = [item.sha_256 for item in read.evidence if item.role is EvidenceRole.ATTACHED]
    signed = sign_step(
        key,
        step_content(read, "SUBMIT", evidence_sha256=attached),
        agency=submitter.agency,
        principal=submitter.principal,
    )
    return {
        "keyThumbprint": signed.key_thumbprint,
        "statement": signed.statement,
        "signature": signed.signature,
    }
