"""The statement an agency signs for a step (docs/SIGNATURES.md), built from what the client sent
and read back, never from what it meant to send: the body and particulars as the hub stores
them, the evidence digests as the hub reports them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from casehub.client.generated import (
    RequestContent,
    RequestContentParticulars,
    StepSignatureInput,
)
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.signatures.statements import (
    StepContent,
    body_sha256,
    new_nonce,
    particulars_normal_form,
    particulars_sha256,
    statement_bytes,
    statement_of,
)


def uuid_of(global_id: str) -> UUID:
    """The UUID a global id names (base64url of `Type:uuid`); ValueError if it is none."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("ascii")
        return UUID(raw.partition(":")[2])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"Not a global id: {global_id!r}.") from None


def particulars_digest(particulars: RequestContentParticulars | None) -> str:
    """particularsSha256 of the particulars as read: their normal form (every member, in the
    hub's stored order of identifiers), canonical JSON, SHA-256."""
    stored = None if particulars is None else particulars.model_dump_json(by_alias=True)
    return particulars_sha256(particulars_normal_form(stored))


def step_content(
    request: RequestContent,
    action: str,
    *,
    evidence_sha256: Iterable[str] = (),
    text: str | None = None,
    outcome: str | None = None,
    countersigns: str | None = None,
) -> StepContent:
    """What a step's statement says about `request` as read back; ValueError when the read
    lacks the parties or the body (which only the two parties read)."""
    if request.requester is None or request.requested is None or request.body is None:
        raise ValueError("The request was not read in full: its parties or body are missing.")
    return StepContent(
        action=action,
        request=uuid_of(request.id),
        kind=request.kind.value,
        priority=request.priority.value,
        requester=uuid_of(request.requester.id),
        requested=uuid_of(request.requested.id),
        legal_basis=request.legal_basis,
        body_sha256=body_sha256(request.body),
        particulars_sha256=particulars_digest(request.particulars),
        evidence_sha256=tuple(evidence_sha256),
        text_sha256=None if text is None else body_sha256(text),
        outcome=outcome,
        countersigns=countersigns,
    )


def sign_step(
    key: AgencyPrivateKey,
    content: StepContent,
    *,
    agency: UUID,
    principal: UUID,
    now: datetime | None = None,
) -> StepSignatureInput:
    """The statement of `content` by this agency and principal, issued now with a fresh
    nonce, and the key's signature over its canonical bytes."""
    thumbprint = key.public.thumbprint
    statement = statement_of(
        content,
        agency=agency,
        principal=principal,
        key=thumbprint,
        issued_at=now or datetime.now(UTC),
        nonce=new_nonce(),
    )
    message = statement_bytes(statement)
    return StepSignatureInput(
        key_thumbprint=thumbprint, statement=message.decode("utf-8"), signature=key.sign(message)
    )
