"""The demo agencies' signing keys and their signatures on request steps.

Each agency's tool holds its own key: the demo writes it to DEMO_KEYS beside the keyring (mode
0600; in real life the agency's side, never the hub's), registers the public half as the
agency's administrator and accredits it as the hub's operator. Every signable step the demo
replays is then signed over the statement the agency's tool would compute from the request as
it reads it back, so every step of the demo's requests shows VERIFIED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.requests.transitions import FulfilOutcome, RequestAction
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.policy import SIGNABLE
from casehub.domain.signatures.statements import new_nonce, statement_bytes, statement_of
from casehub.services.agencies import signing_keys
from casehub.services.requests import signatures
from casehub.services.runtime import Scope

DEMO_KEYS = "demo-agency-keys"
ACCREDITED_FOR = timedelta(days=3 * 365)


def key_path(keyring: Path, code: str) -> Path:
    """Where the demo keeps an agency's private key (what the agency's tool would hold)."""
    return keyring.parent / DEMO_KEYS / f"{code}.json"


async def accredited_key(scope: Scope, keyring: Path, code: str) -> AgencyPrivateKey:
    """The agency's key (made if the demo has none yet), registered by the scope's principal
    (the agency's administrator) and accredited by the operator from the scope's clock on."""
    path = key_path(keyring, code)
    if path.exists():
        key = AgencyPrivateKey.load(path)
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The platform holds a post-quantum (hybrid) key; the public bodies hold Ed25519.
        hybrid = code == "AE-RELAYGRAM"
        key = AgencyPrivateKey.generate(
            SigningAlgorithm.ED25519_ML_DSA_65 if hybrid else SigningAlgorithm.ED25519
        )
        key.save(path)
    public = statement_bytes(key.public.to_jwk()).decode("ascii")
    view = await signing_keys.register_signing_key(scope, public_key=public)
    await signing_keys.accredit_signing_key(
        scope,
        key_id=view.id,
        not_before=None,
        not_after=scope.now + ACCREDITED_FOR,
        as_operator=True,
    )
    return key


async def step_signature(
    scope: Scope,
    key: AgencyPrivateKey,
    request_id: UUID,
    action: RequestAction,
    *,
    text: str | None,
    outcome: FulfilOutcome | None,
    supplied: Sequence[UUID],
) -> signatures.StepSignature | None:
    """The signature of the scope's principal over the step's statement; None for a step that
    is not signed."""
    if action.value not in SIGNABLE:
        return None
    row = (await scope.store.requests_by_ids([request_id]))[0]
    evidence = await signatures.signed_evidence(
        scope, row, action, await scope.store.evidence_by_ids(supplied)
    )
    submission = (
        await signatures.submission_statement(scope, row)
        if action is RequestAction.APPROVE
        else None
    )
    content = await signatures.step_content(
        scope,
        row,
        action,
        evidence=evidence,
        text=text if action in (RequestAction.DECLINE, RequestAction.FULFIL) else None,
        outcome=outcome,
        countersigns=signatures.countersigned(submission),
    )
    principal = scope.caller()
    statement = statement_of(
        content,
        agency=principal.agency_id,
        principal=principal.id,
        key=key.public.thumbprint,
        issued_at=scope.now,
        nonce=new_nonce(),
    )
    message = statement_bytes(statement)
    return signatures.StepSignature(
        key.public.thumbprint, message.decode("utf-8"), key.sign(message)
    )
