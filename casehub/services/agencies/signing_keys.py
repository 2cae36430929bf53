"""Use-cases on agencies' signing keys: an agency registers the public half of a key it holds,
the hub accredits it with a statement signed by the hub's accreditation key, and either revokes
it. Keys are never deleted: signatures made while a key was good must still verify later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from casehub.crypto.agency_keys import AgencyPublicKey, KeyFormatError
from casehub.domain import validation as check
from casehub.domain.enums import Role
from casehub.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from casehub.domain.ids import new_id
from casehub.domain.roles import Operation
from casehub.domain.signatures.accreditation import (
    accreditation_statement,
    revocation_statement,
)
from casehub.domain.signatures.instants import format_instant
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes
from casehub.domain.signatures.states import key_state
from casehub.persistence import DuplicateError
from casehub.persistence.tables import AgencySigningKeyRow, RemoteSigningKeyRow
from casehub.services.audit import trail as audit
from casehub.services.caps import SIGNING_KEYS_PER_AGENCY
from casehub.services.runtime import Scope
from casehub.services.views import AccreditationView, RevocationView, SigningKeyView

PUBLIC_KEY_MAX = 8 * 1024  # a hybrid JWK is about 2.7 KB
ACCREDITATION_MAX = timedelta(days=3 * 366)
REASON_MAX = 500


def signing_key_view(
    row: AgencySigningKeyRow | RemoteSigningKeyRow, now: datetime
) -> SigningKeyView:
    """Render a key with its state now: one of this hub's agencies', or a peer agency's
    (accredited and maybe revoked by its home hub, whose statements this hub checked before
    storing it; registered_at as that hub said)."""
    accreditation = revocation = None
    if row.accreditation is not None:
        accreditation = AccreditationView(
            statement=row.accreditation,
            signature=row.accreditation_signature or "",
            hub_key=row.accreditation_key or "",
            not_before=row.not_before or row.registered_at,
            not_after=row.not_after or row.registered_at,
            accredited_at=row.accredited_at or row.registered_at,
        )
    if row.revocation is not None:
        revocation = RevocationView(
            statement=row.revocation,
            signature=row.revocation_signature or "",
            revoked_at=row.revoked_at or row.registered_at,
            reason=row.revocation_reason or "",
        )
    return SigningKeyView(
        id=row.id,
        agency_id=row.agency_id,
        algorithm=SigningAlgorithm(row.algorithm),
        thumbprint=row.thumbprint,
        public_jwk=row.public_jwk,
        state=key_state(
            not_before=row.not_before,
            not_after=row.not_after,
            revoked_at=row.revoked_at,
            now=now,
        ),
        registered_at=row.registered_at,
        accreditation=accreditation,
        revocation=revocation,
    )


def _public_key(text: str) -> AgencyPublicKey:
    check.text(text, field=["publicKey"], max_length=PUBLIC_KEY_MAX)
    try:
        return AgencyPublicKey.from_jwk_text(text)
    except KeyFormatError as error:
        raise ValidationFailed(str(error), ["publicKey"]) from None


async def register_signing_key(scope: Scope, *, public_key: str) -> SigningKeyView:
    """Register the public half of a key the caller's agency holds (AGENCY_ADMIN); it signs
    nothing that counts until the hub accredits it."""
    async with audit.mutation(scope, "signing_key.register") as entry:
        principal = scope.require(Operation.REGISTER_SIGNING_KEY)
        key = _public_key(public_key)
        await scope.store.lock_agency(principal.agency_id)
        if await scope.store.count_signing_keys(principal.agency_id) >= SIGNING_KEYS_PER_AGENCY:
            raise ValidationFailed(
                f"An agency holds at most {SIGNING_KEYS_PER_AGENCY} signing keys.", ["publicKey"]
            )
        if await scope.store.signing_key_by_thumbprint(key.thumbprint) is not None:
            raise Conflict("This key is registered already.", ["publicKey"])
        row = AgencySigningKeyRow(
            id=new_id(),
            agency_id=principal.agency_id,
            algorithm=key.algorithm.value,
            thumbprint=key.thumbprint,
            # Stored as the hub will hand it out: the public members only, canonical.
            public_jwk=statement_bytes(key.to_jwk()).decode("ascii"),
            registered_by=principal.id,
            registered_at=scope.now,
        )
        scope.store.add(row)
        try:
            await scope.store.flush()
        except DuplicateError:  # the same key registered at the same moment
            raise Conflict("This key is registered already.", ["publicKey"]) from None
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "AgencySigningKey",
            row.id,
            row.agency_id,
        )
        entry.details = {"thumbprint": row.thumbprint, "algorithm": row.algorithm}
    return signing_key_view(row, scope.now)


async def _locked_key(
    scope: Scope, key_id: UUID, holder: UUID | None = None
) -> AgencySigningKeyRow:
    """The key, locked; with `holder`, only that agency's (FORBIDDEN otherwise)."""
    await scope.store.lock_signing_key(key_id)
    rows = await scope.store.signing_keys_by_ids([key_id])
    if holder is not None and (not rows or rows[0].agency_id != holder):
        # Another agency's key and no key at all are answered (and audited) alike.
        raise Forbidden("Only the agency that holds the key, or the hub, revokes it.", ["id"])
    if not rows:
        raise NotFound("No such signing key.", ["id"])
    return rows[0]


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


async def _from_now_on(scope: Scope, row: AgencySigningKeyRow) -> datetime:
    """The moment a revocation "now" takes effect: the next whole second, and never at or
    before a statement the hub already accepted with the key. Its issuedAt is in whole seconds
    and may lie up to the skew ahead of the hub's clock, and a revocation made now must not
    undo a step taken before it (an earlier revokedAt, given on purpose, does)."""
    moment = _whole_seconds(scope.now) + timedelta(seconds=1)
    latest = await scope.store.latest_signature_issued(row.id)
    if latest is not None:
        moment = max(moment, latest + timedelta(seconds=1))
    return moment


async def accredit_signing_key(
    scope: Scope,
    *,
    key_id: UUID,
    not_before: datetime | None,
    not_after: datetime,
    as_operator: bool = False,
) -> SigningKeyView:
    """Accredit a registered key from not_before (default now) until not_after (HUB_ADMIN, or
    the operator's tools with as_operator=True): the hub signs a statement naming the agency,
    its jurisdiction and kind, and the key."""
    async with audit.mutation(scope, "signing_key.accredit") as entry:
        principal = None if as_operator else scope.require(Operation.ACCREDIT_SIGNING_KEY)
        row = await _locked_key(scope, key_id)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "AgencySigningKey",
            row.id,
            row.agency_id,
        )
        if row.revoked_at is not None:
            raise Conflict("The key is revoked: register a new one.", ["id"])
        if row.accreditation is not None:
            # One accreditation a key: a signature's validity never changes after the fact.
            raise Conflict("The key is accredited already: register a new one to renew.", ["id"])
        now = _whole_seconds(scope.now)
        start = now if not_before is None else _whole_seconds(not_before)
        end = _whole_seconds(not_after)
        _check_validity(start, end, now)
        agency = (await scope.store.agencies_by_ids([row.agency_id]))[0]
        statement = accreditation_statement(
            agency=row.agency_id,
            code=agency.code,
            jurisdiction=agency.jurisdiction,
            kind=agency.kind,
            algorithm=SigningAlgorithm(row.algorithm),
            thumbprint=row.thumbprint,
            not_before=start,
            not_after=end,
            issued_at=now,
        )
        signer = scope.runtime.keys.accreditation_signer()
        text = statement_bytes(statement)
        row.accreditation = text.decode("utf-8")
        row.accreditation_signature = signer.sign(text)
        row.accreditation_key = signer.public.thumbprint
        row.accredited_by = None if principal is None else principal.id
        row.accredited_at = scope.now
        row.not_before, row.not_after = start, end
        scope.store.add(row)
        await scope.store.flush()
        entry.details = {"notBefore": format_instant(start), "notAfter": format_instant(end)}
    return signing_key_view(row, scope.now)


def _check_validity(start: datetime, end: datetime, now: datetime) -> None:
    problems: list[tuple[str, Sequence[str]]] = []
    if start < now - timedelta(minutes=5):
        problems.append(("An accreditation cannot start in the past.", ["notBefore"]))
    if end <= start:
        problems.append(("notAfter must be after notBefore.", ["notAfter"]))
    elif end - start > ACCREDITATION_MAX:
        problems.append(("An accreditation lasts at most three years.", ["notAfter"]))
    if problems:
        raise ValidationFailed(*problems[0])


async def revoke_signing_key(
    scope: Scope, *, key_id: UUID, reason: str, revoked_at: datetime | None
) -> SigningKeyView:
    """Revoke a key from revoked_at (default now; earlier when the key was compromised before
    it was noticed): the agency that holds it (AGENCY_ADMIN) or the hub (HUB_ADMIN). Steps
    signed before that moment keep verifying; none signed from it on is accepted or counts."""
    async with audit.mutation(scope, "signing_key.revoke") as entry:
        principal = scope.require(Operation.REVOKE_SIGNING_KEY)
        check.text(reason, field=["reason"], max_length=REASON_MAX, multiline=True)
        hub = Role.HUB_ADMIN in principal.roles
        row = await _locked_key(scope, key_id, None if hub else principal.agency_id)
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "AgencySigningKey",
            row.id,
            row.agency_id,
        )
        if row.revoked_at is not None:
            raise Conflict("The key is revoked already.", ["id"])
        now = _whole_seconds(scope.now)
        if revoked_at is None:
            moment = await _from_now_on(scope, row)
        else:
            moment = _whole_seconds(revoked_at)
            if moment > now:
                raise ValidationFailed("A revocation takes effect now or earlier.", ["revokedAt"])
        if moment < _whole_seconds(row.registered_at):
            raise ValidationFailed(
                "A revocation cannot take effect before the key was registered.", ["revokedAt"]
            )
        statement = revocation_statement(
            agency=row.agency_id, thumbprint=row.thumbprint, revoked_at=moment, reason=reason
        )
        signer = scope.runtime.keys.accreditation_signer()
        text = statement_bytes(statement)
        row.revocation = text.decode("utf-8")
        row.revocation_signature = signer.sign(text)
        row.revoked_by, row.revoked_at, row.revocation_reason = principal.id, moment, reason
        scope.store.add(row)
        await scope.store.flush()
        entry.details = {"revokedAt": format_instant(moment)}
    return signing_key_view(row, scope.now)


async def signing_keys_of(
    scope: Scope, agency_ids: Sequence[UUID]
) -> dict[UUID, list[SigningKeyView]]:
    """Every key of these agencies, oldest first: public, like the directory they belong to.
    A peer's agency's keys are those its home hub's directory listed (withdrawn ones too).
    Two statements, whatever the number of agencies."""
    scope.require(Operation.READ_DIRECTORY)
    found: dict[UUID, list[SigningKeyView]] = {agency: [] for agency in agency_ids}
    for row in await scope.store.signing_keys_of(agency_ids, SIGNING_KEYS_PER_AGENCY):
        found[row.agency_id].append(signing_key_view(row, scope.now))
    for remote in await scope.store.remote_keys_of(agency_ids, SIGNING_KEYS_PER_AGENCY):
        found[remote.agency_id].append(signing_key_view(remote, scope.now))
    return found


async def signing_keys_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, SigningKeyView]:
    """Keys by id (node look-ups): this hub's agencies' and peer agencies' alike (a peer's
    key has its id at its home hub; none is stored under one of this hub's key ids)."""
    scope.require(Operation.READ_DIRECTORY)
    found = {
        row.id: signing_key_view(row, scope.now)
        for row in await scope.store.signing_keys_by_ids(ids)
    }
    missing = [key_id for key_id in ids if key_id not in found]
    for remote in await scope.store.remote_keys_by_ids(missing) if missing else ():
        found[remote.id] = signing_key_view(remote, scope.now)
    return found
