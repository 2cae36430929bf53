"""Operator commands on cooperation requests: overdue ones, receipt chains and signature
bundles (exported from the database, verified offline)."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from casehub.cli.common import JsonFlag, emit, print_json, run, table
from casehub.cli.errors import fail
from casehub.config import Settings
from casehub.crypto import bundles as bundle_files
from casehub.crypto import receipt_files
from casehub.domain.errors import DomainError, NotFound
from casehub.domain.signatures.policy import SignedSteps
from casehub.services.requests import bundles, overdue, receipts
from casehub.services.runtime import Runtime, Scope, open_scope

requests_app = typer.Typer(help="Cooperation requests (operator views).", no_args_is_help=True)
receipts_app = typer.Typer(
    help="Signed receipts of cooperation requests: export a chain, verify it offline.",
    no_args_is_help=True,
)


@requests_app.command("overdue")
def requests_overdue(
    as_json: JsonFlag = False,
) -> None:
    """List every request past the deadline of the step it waits on, longest overdue first."""
    from casehub.api.ids import to_global_id

    async def work(runtime: Runtime) -> list[overdue.OverdueRequest]:
        async with open_scope(runtime) as scope:
            return await overdue.overdue_requests(scope)

    found = run(Settings(), work)
    rows = [
        {
            "id": to_global_id("CooperationRequest", item.id),
            "kind": item.kind.value,
            "priority": item.priority.value,
            "status": item.status.value,
            "requester": item.requester_code,
            "requested": item.requested_code,
            "step": item.step.value,
            "deadline": item.deadline.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "overdueBy": overdue.humanize(item.overdue_by),
            "overdueSeconds": int(item.overdue_by.total_seconds()),
        }
        for item in found
    ]
    columns = (
        ("REQUEST", "id"),
        ("KIND", "kind"),
        ("PRIORITY", "priority"),
        ("STATUS", "status"),
        ("REQUESTER", "requester"),
        ("REQUESTED", "requested"),
        ("LATE STEP", "step"),
        ("DEADLINE (UTC)", "deadline"),
        ("OVERDUE BY", "overdueBy"),
    )
    emit(rows, as_json, lambda: table(columns, rows, none="no overdue cooperation requests"))
    if as_json or not rows:
        return
    typer.echo(f"{len(rows)} overdue request{'s' if len(rows) != 1 else ''}", err=True)


def _request_uuid(text: str) -> UUID:
    """A request's UUID from its GraphQL global id or from the UUID itself."""
    from casehub.api.ids import parse_id_of

    try:
        return UUID(text)
    except ValueError:
        pass
    try:
        return parse_id_of("CooperationRequest", text, ["requestId"])
    except DomainError as error:
        fail(f"{text!r} is not the id of a cooperation request: {error.message}")


def _export(
    request_id: str,
    output: Path | None,
    export: Callable[[Scope, UUID, str], Awaitable[dict[str, Any]]],
    what: Callable[[dict[str, Any]], str],
) -> None:
    """Run one export of a request (its id global or a UUID) and write it to output or
    stdout; `what` says what was written, for people."""
    from casehub.api.ids import to_global_id

    request_uuid = _request_uuid(request_id)
    global_id = to_global_id("CooperationRequest", request_uuid)

    async def work(runtime: Runtime) -> dict[str, Any] | None:
        async with open_scope(runtime) as scope:
            try:
                return await export(scope, request_uuid, global_id)
            except NotFound:
                return None

    document = run(Settings(), work)
    if document is None:
        fail(f"no cooperation request with id {request_id}")
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {what(document)} of request {global_id} to {output}", err=True)


@receipts_app.command("export")
def receipts_export(
    request_id: Annotated[
        str, typer.Argument(help="The request's GraphQL id (or its UUID).", show_default=False)
    ],
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Write a request's receipt chain and the hub's public keys as one JSON document."""

    def export(scope: Scope, request_uuid: UUID, global_id: str) -> Awaitable[dict[str, Any]]:
        return receipts.export_receipts(scope, request_id=request_uuid, request_global_id=global_id)

    _export(request_id, output, export, lambda document: f"{len(document['receipts'])} receipts")


@requests_app.command("bundle")
def requests_bundle(
    request_id: Annotated[
        str, typer.Argument(help="The request's GraphQL id (or its UUID).", show_default=False)
    ],
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Write a request's signature bundle: its receipt chain, every agency signature on its
    steps and the hub's accreditation of each key, for `casehub requests verify` offline."""

    def export(scope: Scope, request_uuid: UUID, global_id: str) -> Awaitable[dict[str, Any]]:
        return bundles.export_bundle(scope, request_id=request_uuid, request_global_id=global_id)

    _export(
        request_id,
        output,
        export,
        lambda document: f"a bundle of {len(document['signatures'])} signature(s)",
    )


def _load_json(source: str, what: str) -> Any:
    """JSON from a file, or from an http(s) URL when the source is one."""
    try:
        if source.startswith(("https://", "http://")):
            # S310: only http(s) URLs get here, never file: or other schemes.
            request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                raw = response.read(1_000_001)
        else:
            raw = Path(source).read_bytes()
    except OSError as error:
        fail(f"cannot read {what} {source}: {error}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        fail(f"{what} {source} is not JSON")


@receipts_app.command("verify")
def receipts_verify(
    file: Annotated[Path, typer.Argument(help="A file written by `casehub receipts export`.")],
    keys: Annotated[
        str | None,
        typer.Option(
            "--keys",
            help="JWKS to verify with instead of the file's own: a file, or the URL "
            "https://HUB/.well-known/casehub-receipts.json.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Verify an exported receipt chain offline; exits 1 naming the first bad receipt."""
    from casehub.api.ids import parse_id_of

    document = _load_json(str(file), "receipts file")
    jwks = None
    if keys is not None:
        jwks = _load_json(keys, "JWKS")
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            fail(f"JWKS {keys} has no 'keys' list")
    try:
        result = receipt_files.verify_document(
            document,
            request_of=lambda text: parse_id_of("CooperationRequest", text, ["request"]),
            jwks=jwks,
        )
    except receipt_files.ReceiptFileError as error:
        fail(f"{file}: {error}")
    summary = {
        "ok": result.ok,
        "request": result.request,
        "receipts": result.total,
        "verified": result.checked,
        "keyIds": list(result.key_ids),
        "keysFrom": keys if keys is not None else "file",
    }
    if not result.ok:
        if as_json:
            print_json({**summary, "bad": result.bad_label, "reason": result.reason})
        fail(f"{file}: {result.describe()}")
    source = keys if keys is not None else "the file (compare with the hub's published keys)"
    emit(
        summary,
        as_json,
        lambda: (
            f"{result.describe()} of request {result.request}; "
            f"signed with key {', '.join(result.key_ids)} from {source}"
        ),
    )


@requests_app.command("verify")
def requests_verify(
    file: Annotated[Path, typer.Argument(help="A file written by `casehub requests bundle`.")],
    trust: Annotated[
        str,
        typer.Option(
            "--trust",
            help="The hub's public keys, as `casehub keys public` writes them (a file or an "
            "http(s) URL), obtained apart from the bundle.",
        ),
    ],
    require: Annotated[
        SignedSteps,
        typer.Option(
            "--require",
            help="Which steps must be signed: the hub's default policy, every signable step, "
            "or none.",
        ),
    ] = SignedSteps.EMERGENCY_OR_SERVICE_PROVIDER,
    max_skew: Annotated[
        int,
        typer.Option(
            "--max-skew",
            min=0,
            max=3600,
            help="Seconds a statement's issuedAt may be from its step's receipt time: the "
            "hub's CASEHUB_STATEMENT_SKEW_SECONDS.",
        ),
    ] = 300,
    as_json: JsonFlag = False,
) -> None:
    """Verify a signature bundle offline with the trusted hub keys; exits 1 naming the first
    bad item (receipt, event or signature)."""
    from casehub.api.ids import parse_id_of

    document = _load_json(str(file), "bundle file")
    keys = _load_json(trust, "trust file")
    try:
        verdict = bundle_files.verify_bundle(
            document,
            keys,
            request_of=lambda text: parse_id_of("CooperationRequest", text, ["request"]),
            policy=require,
            at_most_skew=max_skew,
        )
    except bundle_files.TrustFileError as error:
        fail(f"{trust}: {error}")
    except bundle_files.BundleFileError as error:
        fail(f"{file}: {error}")
    summary = {
        "ok": verdict.ok,
        "events": verdict.events,
        "signatures": verdict.signatures,
        "require": require.value,
    }
    if not verdict.ok:
        if as_json:
            print_json({**summary, "bad": verdict.item, "reason": verdict.reason})
        fail(f"{file}: {verdict.describe()}")
    emit(summary, as_json, verdict.describe)
