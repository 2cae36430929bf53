"""Authentication by bearer token, and issuing and revoking tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from casehub.crypto import hash_token, new_token
from casehub.domain import validation as check
from casehub.domain.enums import Role
from casehub.domain.errors import NotFound, Unauthenticated, Unavailable, ValidationFailed
from casehub.domain.ids import new_id
from casehub.persistence.database import unreachable
from casehub.persistence.tables import ApiTokenRow, PrincipalRow
from casehub.services.audit import trail as audit
from casehub.services.runtime import Principal, Runtime, Scope

_BEARER = "bearer "
_MAX_HEADER = 512


async def authenticate(
    runtime: Runtime, scope: Scope, authorization: str | None, client: str | None = None
) -> Principal:
    """The principal behind an `Authorization: Bearer` header; any failure is UNAUTHENTICATED,
    an unreachable database Unavailable (the caller answers 503, not a bare 500)."""
    try:
        reason = await _check(scope, authorization)
        # Close the look-up's transaction so the request starts from fresh data.
        await scope.store.end_read()
        if isinstance(reason, Principal):
            return reason
        await audit.record_auth_failure(runtime, reason, client)
    except Exception as error:
        if unreachable(error):
            raise Unavailable from error
        raise
    raise Unauthenticated


async def _check(scope: Scope, authorization: str | None) -> Principal | str:
    if not authorization:
        return "missing"
    if len(authorization) > _MAX_HEADER or not authorization.lower().startswith(_BEARER):
        return "malformed"
    token = authorization[len(_BEARER) :].strip()
    if not token or not token.isascii() or not token.isprintable():
        return "malformed"
    found = await scope.store.token_with_principal(hash_token(token))
    if found is None:
        return "unknown"
    row, principal, agency = found
    if row.revoked_at is not None:
        return "revoked"
    if _expiry(scope, row) <= scope.now:
        return "expired"
    return Principal(
        id=principal.id,
        name=principal.name,
        agency_id=agency.id,
        agency_code=agency.code,
        roles=frozenset(Role(name) for name in row.roles.split(",")),
        token_id=row.id,
    )


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
) -> tuple[UUID, str]:
    """Create a token for a principal of the agency (created if new); returns (id, token).

    Every token expires: without `expires_at`, after the default lifetime; never later than
    the longest lifetime (both settings), so a lost or forgotten token stops working."""
    wanted = sorted({role.value for role in roles})
    settings = scope.runtime.settings
    async with audit.mutation(scope, "token.issue") as entry:
        if not wanted:
            raise ValidationFailed("Give at least one role.", ["role"])
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
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "ApiToken", row.id, agency.id
        entry.details = {
            "roles": wanted,
            "principal": principal_name,
            "expiresAt": expires_at.isoformat(),
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
        )
        for row, principal, owner in await scope.store.tokens_with_principals(agency_id)
    ]
