"""Operator commands on agencies, tokens and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from casehub.cli.common import fail, parse_duration, run
from casehub.config import Settings
from casehub.domain.audit.chain import Anchor, Verdict
from casehub.domain.enums import AgencyKind, Role
from casehub.services.agencies import agencies, auth
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime, open_scope

agency_app = typer.Typer(help="Agencies.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Option(help="Unique code, e.g. MY-PDRM.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    jurisdiction: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code or INT.")],
    kind: Annotated[AgencyKind, typer.Option(help="Kind of body.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
) -> None:
    """Register an agency; prints its id alone."""

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            view = await agencies.register_agency(
                scope,
                code=code,
                name=name,
                jurisdiction=jurisdiction,
                kind=kind,
                timezone=timezone,
                as_operator=True,
            )
            from casehub.api.ids import to_global_id

            return to_global_id("Agency", view.id)

    typer.echo(run(Settings(), work))


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
) -> None:
    """Issue a token; prints the token alone (it is shown only once). Every token expires."""
    lifetime = parse_duration(expires) if expires is not None else None
    if lifetime is not None and lifetime <= timedelta(0):
        raise typer.BadParameter("must be longer than zero, e.g. 90d", param_hint="--expires")

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            # None: the service applies the default lifetime.
            expires_at = scope.now + lifetime if lifetime is not None else None
            _id, token = await auth.issue_token(
                scope,
                agency_code=agency,
                roles=role,
                principal_name=principal,
                expires_at=expires_at,
            )
            return token

    typer.echo(run(Settings(), work))


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token, or its id.")],
) -> None:
    """Revoke a token at once."""

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            return str(await auth.revoke_token(scope, token_or_id=token))

    typer.echo(run(Settings(), work))


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
) -> None:
    """Check the audit hash chain; exits 1 at the first broken link or a missing anchor."""
    expected = _anchor(anchor)

    async def work(runtime: Runtime) -> Verdict:
        async with open_scope(runtime) as scope:
            return await audit.verify_chain(scope.store, anchor=expected)

    verdict = run(Settings(), work)
    if not verdict.intact:
        fail(f"audit chain broken: {verdict.problem}; {verdict.checked} events verified")
    head = f"head {verdict.head}" if verdict.head else "no head yet"
    typer.echo(f"audit chain intact: {verdict.checked} events, {head}")
