"""Operator commands on agencies, tokens and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

import typer

from casehub.cli.common import (
    JsonFlag,
    emit,
    parse_duration,
    print_json,
    run,
    spinner,
    table,
    titled,
)
from casehub.cli.errors import fail
from casehub.config import Settings
from casehub.domain.audit.chain import Anchor, Verdict
from casehub.domain.enums import AgencyKind, Role
from casehub.services.agencies import agencies, auth
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope
from casehub.services.views import AgencyView

agency_app = typer.Typer(help="Agencies.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)


def _agency(view: AgencyView) -> dict[str, str]:
    from casehub.api.ids import to_global_id

    return {
        "id": to_global_id("Agency", view.id),
        "code": view.code,
        "name": view.name,
        "jurisdiction": view.jurisdiction,
        "kind": view.kind.value,
        "timezone": view.timezone,
    }


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Option(help="Unique code, e.g. MY-PDRM.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    jurisdiction: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code or INT.")],
    kind: Annotated[AgencyKind, typer.Option(help="Kind of body.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
    as_json: JsonFlag = False,
) -> None:
    """Register an agency; prints its id alone (or, with --json, the agency)."""

    async def work(runtime: Runtime) -> AgencyView:
        async with open_scope(runtime) as scope:
            return await agencies.register_agency(
                scope,
                code=code,
                name=name,
                jurisdiction=jurisdiction,
                kind=kind,
                timezone=timezone,
                as_operator=True,
            )

    row = _agency(run(Settings(), work))
    emit(row, as_json, lambda: row["id"])


@agency_app.command("list")
def agency_list(as_json: JsonFlag = False) -> None:
    """List every agency: code, name, jurisdiction, kind and time zone."""

    async def work(runtime: Runtime) -> list[AgencyView]:
        async with open_scope(runtime) as scope:
            return await agencies.all_agencies(scope)

    rows = [_agency(view) for view in run(Settings(), work)]
    rows.sort(key=lambda row: row["code"])
    columns = titled("code", "name", "jurisdiction", "kind", "timezone")
    emit(rows, as_json, lambda: table(columns, rows, none="no agencies"))


@token_app.command("issue")
def token_issue(
    agency: Annotated[str, typer.Option(help="Agency code.")],
    role: Annotated[list[Role], typer.Option(help="Role; repeat for more.")],
    principal: Annotated[str, typer.Option(help="Name of the person or tool.")] = "agency-tool",
    expires: Annotated[
        str | None,
        typer.Option(
            help="Lifetime such as 90d, 12h, 30m; default CASEHUB_TOKEN_DEFAULT_LIFETIME_DAYS "
            "(90 days), at most CASEHUB_TOKEN_MAX_LIFETIME_DAYS (365 days)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a token; prints the token alone (it is shown only once; with --json, with its
    id). Every token expires."""
    lifetime = parse_duration(expires) if expires is not None else None
    if lifetime is not None and lifetime <= timedelta(0):
        raise typer.BadParameter("must be longer than zero, e.g. 90d", param_hint="--expires")

    async def work(runtime: Runtime) -> tuple[UUID, str]:
        async with open_scope(runtime) as scope:
            # None: the service applies the default lifetime.
            expires_at = scope.now + lifetime if lifetime is not None else None
            return await auth.issue_token(
                scope,
                agency_code=agency,
                roles=role,
                principal_name=principal,
                expires_at=expires_at,
            )

    token_id, token = run(Settings(), work)
    issued = {"id": str(token_id), "token": token, "agency": agency, "principal": principal}
    emit(issued, as_json, lambda: token)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token, or its id.")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a token at once; prints its id."""

    async def work(runtime: Runtime) -> UUID:
        async with open_scope(runtime) as scope:
            return await auth.revoke_token(scope, token_or_id=token)

    token_id = str(run(Settings(), work))
    emit({"id": token_id, "revoked": True}, as_json, lambda: token_id)


@token_app.command("list")
def token_list(
    agency: Annotated[
        str | None, typer.Option(help="Only this agency's tokens (its code).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List tokens, oldest first: id, agency, principal, roles, created, expires, revoked.
    Never the token itself (casehub keeps only its digest)."""

    async def work(runtime: Runtime) -> list[auth.TokenListing]:
        async with open_scope(runtime) as scope:
            return await auth.list_tokens(scope, agency_code=agency)

    rows = [
        {
            "id": str(item.id),
            "agency": item.agency_code,
            "principal": item.principal,
            "roles": [role.value for role in item.roles],
            "created": item.created_at,
            "expires": item.expires_at,
            "revoked": item.revoked_at,
        }
        for item in run(Settings(), work)
    ]
    columns = titled("id", "agency", "principal", "roles", "created", "expires", "revoked")
    emit(rows, as_json, lambda: table(columns, rows, none="no tokens"))


def _anchor(text: str | None) -> Anchor | None:
    try:
        return None if text is None else Anchor.parse(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH printed by an earlier verify and kept outside the database: "
            "that event must still be in the chain (catches events deleted from its end).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the audit hash chain; exits 1 at the first broken link or a missing anchor."""
    expected = _anchor(anchor)

    async def work(runtime: Runtime) -> Verdict:
        async with open_scope(runtime) as scope:
            with spinner("verifying the audit chain"):
                return await audit.verify_chain(scope.store, anchor=expected)

    verdict = run(Settings(), work)
    head = str(verdict.head) if verdict.head else None
    summary = {"intact": verdict.intact, "checked": verdict.checked, "head": head}
    if verdict.intact:
        shown = f"head {head}" if head else "no head yet"
        emit(summary, as_json, lambda: f"audit chain intact: {verdict.checked} events, {shown}")
        return
    if as_json:
        print_json({**summary, "broken": verdict.broken, "problem": verdict.problem})
    fail(f"audit chain broken: {verdict.problem}; {verdict.checked} events verified")
