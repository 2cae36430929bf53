"""Operator commands on agencies, tokens and the audit trail."""

from __future__ import annotations

import enum
import json
import os
from datetime import timedelta
from pathlib import Path
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
from casehub.crypto import dpop as proofs
from casehub.domain.audit.log import LogVerdict
from casehub.domain.audit.tree_head import TreeHead, from_json, to_json
from casehub.domain.enums import AgencyKind, Role
from casehub.services.agencies import agencies, auth
from casehub.services.audit import log
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


class Binding(enum.StrEnum):
    """What a token is bound to, besides being presented."""

    DPOP = "dpop"


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
    bind: Annotated[
        Binding | None,
        typer.Option(
            help="dpop: accept the token only with a DPoP proof (RFC 9449) signed by the key "
            "given with --jwk, sent as `Authorization: DPoP <token>`."
        ),
    ] = None,
    jwk: Annotated[
        Path | None,
        typer.Option(
            help="With --bind dpop: the public key (a JWK file, Ed25519 or P-256), e.g. as "
            "printed by `casehub token dpop-key`."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a token; prints the token alone (it is shown only once; with --json, with its
    id). Every token expires."""
    lifetime = parse_duration(expires) if expires is not None else None
    if lifetime is not None and lifetime <= timedelta(0):
        raise typer.BadParameter("must be longer than zero, e.g. 90d", param_hint="--expires")
    if (bind is Binding.DPOP) != (jwk is not None):
        raise typer.BadParameter("give --bind dpop and --jwk FILE together", param_hint="--jwk")
    dpop_key = _public_jwk(jwk) if jwk is not None else None

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
                dpop_key=dpop_key,
            )

    token_id, token = run(Settings(), work)
    issued = {"id": str(token_id), "token": token, "agency": agency, "principal": principal}
    emit(issued, as_json, lambda: token)


def _public_jwk(path: Path) -> dict[str, object]:
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise typer.BadParameter(f"{path}: {error}", param_hint="--jwk") from None
    if not isinstance(key, dict):
        raise typer.BadParameter(f"{path}: a JWK is a JSON object", param_hint="--jwk")
    return key


@token_app.command("dpop-key")
def token_dpop_key(
    output: Annotated[
        Path, typer.Option(help="File to write the private key to (mode 0600; must not exist).")
    ],
) -> None:
    """Make an Ed25519 key pair for DPoP proofs: writes the private JWK to --output and prints
    the public JWK, for `token issue --bind dpop --jwk`. Run it where the client runs: the
    private key stays with the client, never with the hub."""
    private = proofs.new_key()
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise typer.BadParameter(f"{output}: {error.strerror}", param_hint="--output") from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(private, file)
    print_json(proofs.public_jwk(private))


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
    """List tokens, oldest first: id, agency, principal, roles, created, expires, revoked and
    the thumbprint of the DPoP key a token is bound to. Never the token itself (casehub keeps
    only its digest)."""

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
            "dpopKey": item.dpop_jkt,
        }
        for item in run(Settings(), work)
    ]
    columns = titled("id", "agency", "principal", "roles", "created", "expires", "revoked")
    columns.append(("DPOP-KEY", "dpopKey"))
    emit(rows, as_json, lambda: table(columns, rows, none="no tokens"))


def _held_heads(paths: list[Path]) -> list[TreeHead]:
    heads = []
    for path in paths:
        try:
            heads.append(from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as error:
            raise typer.BadParameter(f"{path}: {error}", param_hint="--head") from None
    return heads


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        list[Path] | None,
        typer.Option(
            help="A signed tree head kept outside the hub (JSON, as `casehub audit head` prints "
            "it); the log must contain it: catches rewritten, forked or truncated history. "
            "Repeatable.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recompute the audit log's Merkle tree from every entry and check it against the stored
    tree and every signed tree head; exits 1 at the first fault, naming the entry."""
    held = _held_heads(head or [])

    async def work(runtime: Runtime) -> tuple[LogVerdict, int]:
        async with open_scope(runtime) as scope:
            with spinner("verifying the audit log"):
                verdict = await log.verify_log(scope.store, runtime, held=held)
            return verdict, await scope.store.count_pending_audit_events()

    verdict, pending = run(Settings(), work)
    summary = {
        "intact": verdict.intact,
        "entries": verdict.size,
        "signedSize": verdict.signed_size,
        "treeHeads": verdict.heads,
        "pending": pending,
    }
    if verdict.intact:
        emit(
            summary,
            as_json,
            lambda: (
                f"audit log intact: {verdict.size} entries, {verdict.heads} signed tree heads "
                f"(newest covers {verdict.signed_size}), {pending} not yet integrated"
            ),
        )
        return
    if as_json:
        print_json(
            {**summary, "problem": verdict.problem, "leaf": verdict.leaf, "seq": verdict.seq}
        )
    fail(f"audit log broken: {verdict.problem}")


@audit_app.command("integrate")
def audit_integrate(as_json: JsonFlag = False) -> None:
    """Integrate every committed audit entry into the Merkle tree and sign the new tree head
    (what the sequencer in `casehub serve` does every few seconds)."""

    async def work(runtime: Runtime) -> tuple[log.Integration, int]:
        done = await log.integrate_all(runtime)
        async with open_scope(runtime) as scope:
            return done, await scope.store.count_pending_audit_events()

    done, pending = run(Settings(), work)
    summary = {
        "leader": done.leader,
        "integrated": done.integrated,
        "treeSize": done.size,
        "pending": pending,
    }
    if not done.leader:
        emit(summary, as_json, lambda: "another sequencer is integrating; nothing done")
        return
    # Committed entries behind the horizon wait for an older writing transaction to end.
    waiting = f"; {pending} wait for an older writing transaction to end" if pending else ""
    emit(
        summary,
        as_json,
        lambda: f"integrated {done.integrated} entries; tree size {done.size}{waiting}",
    )


@audit_app.command("head")
def audit_head(
    output: Annotated[
        Path | None, typer.Option(help="Write the tree head to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the newest signed tree head as JSON: keep it outside the hub, and give it to
    `casehub audit verify --head` later."""

    async def work(runtime: Runtime) -> TreeHead | None:
        async with open_scope(runtime) as scope:
            row = await scope.store.latest_tree_head()
            return log.head_of(row) if row else None

    found = run(Settings(), work)
    if found is None:
        fail("no signed tree head yet: run `casehub audit integrate` first")
    text = json.dumps(to_json(found), sort_keys=True)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
