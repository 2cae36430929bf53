"""Authentication by bearer or DPoP-bound token, and issuing, listing and revoking tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from casehub.crypto import dpop as proofs
from casehub.crypto import hash_token, new_token
from casehub.domain import validation as check
from casehub.domain.dpop import DpopError, DpopRefused, ProofClaims, check_claims, refused
from casehub.domain.enums import Role
from casehub.domain.errors import (
    NotFound,
    RemoteAgency,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from casehub.domain.ids import new_id
from casehub.persistence.database import unreachable
from casehub.persistence.tables import ApiTokenRow, PrincipalRow
from casehub.services.audit import trail as audit
from casehub.services.runtime import Principal, Runtime, Scope

_SCHEMES = ("bearer", "dpop")
_MAX_HEADER = 512


@dataclass(frozen=True, slots=True)
class Possession:
    """How a request shows that it holds the key its DPoP-bound token is bound to: the DPoP
    proofs it carries (exactly one is accepted) with the method and URL it was made to, or,
    for a websocket's later operations, the thumbprint its connection_init already proved."""

    proofs: tuple[str, ...] = ()
    method: str = "POST"
    uri: str = ""
    proven_jkt: str | None = None


async def authenticate(
    runtime: Runtime,
    scope: Scope,
    authorization: str | None,
    client: str | None = None,
    possession: Possession | None = None,
) -> Principal:
    """The principal behind an `Authorization: Bearer` header, or a `DPoP` one with the proof
    of possession of its key; any failure is UNAUTHENTICATED (a DpopRefused naming the RFC 9449
    error for a DPoP one), an unreachable database Unavailable (the caller answers 503)."""
    try:
        try:
            reason = await _check(scope, authorization, possession or Possession())
            # Close the look-up's transaction so the request starts from fresh data.
            await scope.store.end_read()
            if not isinstance(reason, str):
                principal, claims = reason
                if claims is not None:
                    await _spend(scope, principal, claims)
                return principal
        except DpopRefused as refusal:
            await scope.store.end_read()
            await audit.record_auth_failure(runtime, f"dpop: {refusal.reason}", client)
            raise
        await audit.record_auth_failure(runtime, reason, client)
    except Exception as error:
        if unreachable(error):
            raise Unavailable from error
        raise
    raise Unauthenticated


async def _check(
    scope: Scope, authorization: str | None, possession: Possession
) -> tuple[Principal, ProofClaims | None] | str:
    if not authorization:
        return "missing"
    scheme, _, token = authorization.partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if len(authorization) > _MAX_HEADER or scheme not in _SCHEMES:
        return "malformed"
    if not token or not token.isascii() or not token.isprintable():
        return "malformed"
    bound = scheme == "dpop"
    # The proof is checked before the token is looked up: its refusal depends on the proof
    # alone, never on the token; and every token, unknown or bound, takes the same look-up.
    claims, jkt = _proven(scope, token, possession) if bound else (None, None)
    found = await scope.store.token_with_principal(hash_token(token))
    reason = _refusal(scope, found)
    if reason is None and found is not None:
        row, principal, agency = found
        if bound and row.dpop_jkt != jkt:
            reason = "bound to another key" if row.dpop_jkt else "not bound"
        elif not bound and row.dpop_jkt is not None:
            reason = "bound, presented as bearer"  # a copied token is refused like any other
        else:
            return Principal(
                id=principal.id,
                name=principal.name,
                agency_id=agency.id,
                agency_code=agency.code,
                roles=frozenset(Role(name) for name in row.roles.split(",")),
                token_id=row.id,
                dpop_jkt=row.dpop_jkt,
            ), claims
    assert reason is not None
    if bound:
        raise DpopRefused(DpopError.INVALID_TOKEN, reason)
    return reason


def _refusal(scope: Scope, found: tuple[ApiTokenRow, PrincipalRow, object] | None) -> str | None:
    if found is None:
        return "unknown"
    row = found[0]
    if row.revoked_at is not None:
        return "revoked"
    if _expiry(scope, row) <= scope.now:
        return "expired"
    return None


def _proven(scope: Scope, token: str, possession: Possession) -> tuple[ProofClaims | None, str]:
    """The claims of the request's good DPoP proof for this token and its key's thumbprint;
    or no claims, for a websocket operation, and the key its connection proved."""
    if possession.proven_jkt is not None:
        return None, possession.proven_jkt
    if len(possession.proofs) != 1:
        raise refused("send exactly one DPoP header with a DPoP-bound token")
    opened = proofs.open_proof(possession.proofs[0])
    claims = check_claims(
        opened.claims,
        method=possession.method,
        uri=possession.uri,
        access_token_hash=proofs.access_token_hash(token),
        now=scope.now,
        skew=timedelta(seconds=scope.runtime.settings.dpop_proof_skew_seconds),
    )
    return claims, opened.jkt


async def _spend(scope: Scope, principal: Principal, claims: ProofClaims) -> None:
    """Record the proof as used (committed, so that every replica sees it at once); a proof
    used before is a replay, refused."""
    assert principal.dpop_jkt is not None
    async with scope.store.transaction():
        fresh = await scope.store.remember_proof(
            principal.dpop_jkt, claims.jti, claims.acceptable_until, scope.now
        )
        if not fresh:  # rolled back: the refusal writes nothing (its audit event aside)
            raise refused("this proof was used before (its jti)")


def _expiry(scope: Scope, row: ApiTokenRow) -> datetime:
    if row.expires_at is None:
        # Issued before every token had an expiry: it lives the longest lifetime from issue.
        return row.created_at + timedelta(days=scope.runtime.settings.token_max_lifetime_days)
    return row.expires_at


async def issue_token(
    scope: Scope,
    *,
    agency_code: str,
    roles: Iterable[Role],
    principal_name: str = "agency-tool",
    expires_at: datetime | None = None,
    dpop_key: Mapping[str, object] | None = None,
) -> tuple[UUID, str]:
    """Create a token for a principal of the agency (created if new); returns (id, token).

    Every token expires: without `expires_at`, after the default lifetime; never later than
    the longest lifetime (both settings), so a lost or forgotten token stops working. With
    `dpop_key` (a public JWK) it is bound to that key: accepted only with a DPoP proof signed
    by it (RFC 9449), so that a copy of the token alone is worthless."""
    wanted = sorted({role.value for role in roles})
    settings = scope.runtime.settings
    async with audit.mutation(scope, "token.issue") as entry:
        if not wanted:
            raise ValidationFailed("Give at least one role.", ["role"])
        jkt = None
        if dpop_key is not None:
            try:
                jkt = proofs.thumbprint(dpop_key)
            except ValueError as error:
                raise ValidationFailed(str(error), ["jwk"]) from None
        check.text(principal_name, field=["principal"], max_length=200)
        expires_at = check.utc(expires_at, field=["expires"])
        if expires_at is None:
            expires_at = scope.now + timedelta(days=settings.token_default_lifetime_days)
        if expires_at <= scope.now:
            raise ValidationFailed("Must be in the future.", ["expires"])
        longest = settings.token_max_lifetime_days
        if expires_at > scope.now + timedelta(days=longest):
            raise ValidationFailed(
                f"Must be at most {longest} days from now (CASEHUB_TOKEN_MAX_LIFETIME_DAYS).",
                ["expires"],
            )
        agency = await scope.store.agency_by_code(agency_code)
        if agency is None:
            if await scope.store.remote_agency_coded(agency_code):
                raise RemoteAgency(["agency"])
            raise NotFound(f"No agency with code {agency_code}.", ["agency"])
        principal = await scope.store.principal_named(agency.id, principal_name)
        if principal is None:
            principal = PrincipalRow(
                id=new_id(), agency_id=agency.id, name=principal_name, created_at=scope.now
            )
            scope.store.add(principal)
            await scope.store.flush()
        token = new_token()
        row = ApiTokenRow(
            id=new_id(),
            principal_id=principal.id,
            token_hash=hash_token(token),
            roles=",".join(wanted),
            created_at=scope.now,
            expires_at=expires_at,
            dpop_jkt=jkt,
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "ApiToken", row.id, agency.id
        entry.details = {
            "roles": wanted,
            "principal": principal_name,
            "expiresAt": expires_at.isoformat(),
            "dpopJkt": jkt,
        }
    return row.id, token


async def revoke_token(scope: Scope, *, token_or_id: str) -> UUID:
    """Revoke a token, given the token itself or its id; returns the id."""
    async with audit.mutation(scope, "token.revoke") as entry:
        row = None
        try:
            row = await scope.store.token_by_id(UUID(token_or_id))
        except ValueError:
            row = await scope.store.token_by_hash(hash_token(token_or_id))
        if row is None:
            raise NotFound("No such token.", ["token"])
        if row.revoked_at is None:
            row.revoked_at = scope.now
        await scope.store.flush()
        entry.object_type, entry.object_id = "ApiToken", row.id
    return row.id


@dataclass(frozen=True, slots=True)
class TokenListing:
    """What the operator sees of a token: never the token or its digest."""

    id: UUID
    agency_code: str
    principal: str
    roles: tuple[Role, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    dpop_jkt: str | None  # the thumbprint of the key a DPoP-bound token is bound to


async def list_tokens(scope: Scope, *, agency_code: str | None = None) -> list[TokenListing]:
    """Every token, or an agency's, oldest first, for the operator's `casehub token list`."""
    agency_id = None
    if agency_code is not None:
        agency = await scope.store.agency_by_code(agency_code)
        if agency is None:
            raise NotFound(f"No agency with code {agency_code}.", ["agency"])
        agency_id = agency.id
    return [
        TokenListing(
            id=row.id,
            agency_code=owner.code,
            principal=principal.name,
            roles=tuple(Role(name) for name in row.roles.split(",")),
            created_at=row.created_at,
            expires_at=_expiry(scope, row),
            revoked_at=row.revoked_at,
            dpop_jkt=row.dpop_jkt,
        )
        for row, principal, owner in await scope.store.tokens_with_principals(agency_id)
    ]
