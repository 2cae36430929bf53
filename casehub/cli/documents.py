"""Operator commands on the registry of GraphQL documents (trusted documents): add the
manifests an agency tool ships, list, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from casehub.cli.common import JsonFlag, emit, run, table, titled
from casehub.cli.errors import CONFIG, CliError
from casehub.config import Settings
from casehub.domain.documents import ManifestError, parse_id
from casehub.services import documents
from casehub.services.runtime import Runtime

documents_app = typer.Typer(
    help="Registered GraphQL documents (persisted / trusted documents).", no_args_is_help=True
)


@documents_app.command("add")
def documents_add(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Manifests (Apollo's persisted-query manifest, or {id: text} JSON), .graphql "
            "files, or directories of them."
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Register documents, all or none: each must parse and validate against the schema and
    carry the SHA-256 of its text as its id."""
    from casehub.api.execution.registration import read_documents

    settings = Settings()
    try:
        found = read_documents(files, settings)
    except ManifestError as error:
        raise CliError(f"{error} — correct it; nothing was added") from None

    async def work(runtime: Runtime) -> documents.Added:
        try:
            return await documents.add_manifest(runtime, [entry for _where, entry in found])
        except ManifestError as error:
            raise CliError(f"{error} — remove documents first; nothing was added") from None

    added = run(settings, work)
    result = {"added": added.added, "present": added.present}
    emit(
        result,
        as_json,
        lambda: f"added {len(added.added)} documents, {len(added.present)} already registered",
    )


@documents_app.command("list")
def documents_list(as_json: JsonFlag = False) -> None:
    """List registered documents: id, operation name, source (manifest or apq) and when."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        return [
            {"id": doc.id, "name": doc.name, "source": doc.source, "added_at": doc.added_at}
            async for doc in documents.all_documents(runtime)
        ]

    rows = run(Settings(), work)
    columns = titled("id", "name", "source", "added_at")
    emit(rows, as_json, lambda: table(columns, rows, none="no registered documents"))


@documents_app.command("remove")
def documents_remove(
    document_id: Annotated[str, typer.Argument(metavar="ID", help="sha256:<hex> or the hex.")],
) -> None:
    """Remove a registered document (replicas stop running it within a minute)."""
    wanted = parse_id(document_id)
    if wanted is None:
        raise CliError(
            f"{document_id!r} is not a document id — give sha256:<64 hex digits>", code=CONFIG
        )

    async def work(runtime: Runtime) -> bool:
        return await documents.remove(runtime, wanted)

    if not run(Settings(), work):
        raise CliError(f"no document {wanted} is registered — see `casehub documents list`")
    typer.echo(f"removed {wanted}")
