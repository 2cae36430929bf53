"""Key commands: keys rotate, keys rewrap, keys status, keys retire, keys reindex.

A running server loads the keyring once, when it starts: restart (or roll) every server after
`keys rotate` and again after `keys rotate --activate`. There is no reload endpoint.
"""

from __future__ import annotations

from typing import Annotated

import typer

from casehub.cli.common import JsonFlag, emit, print_json, progress, run, spinner
from casehub.cli.errors import fail
from casehub.config import Settings
from casehub.crypto import KeyringError, activate_version, rotate_keyring
from casehub.services.cases import identifier_index
from casehub.services.keys import lifecycle as key_lifecycle
from casehub.services.runtime import Runtime

_RESTART = "Restart (or roll) every server now: a server loads the keyring only when it starts."


def rotate(
    activate: Annotated[
        bool,
        typer.Option(
            "--activate",
            help="Make the pending version the one new wraps use (second step).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Rotate the root key in two steps, so new versions decrypt before they encrypt.

    `keys rotate` adds version N+1 as decrypt-only (pending). Restart every server, so each can
    unwrap under it. Then `keys rotate --activate` makes it the version new wraps use; restart
    every server again, then move the old wraps with `keys rewrap`.
    """
    path = Settings().keyring
    try:
        if activate:
            version = activate_version(path)
            typer.echo(f"key version {version} is now active", err=True)
        else:
            version = rotate_keyring(path)
            typer.echo(
                f"added key version {version} (decrypt-only); after restarting every server, "
                "run `casehub keys rotate --activate`",
                err=True,
            )
    except KeyringError as error:
        fail(str(error))
    typer.echo(_RESTART, err=True)
    state = "active" if activate else "pending"
    emit({"version": version, "state": state}, as_json, lambda: str(version))


def rewrap(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Wraps per transaction.")
    ] = 500,
    as_json: JsonFlag = False,
) -> None:
    """Rewrap every data key not under the active version, online, in short batches.

    Servers keep serving while it runs; interrupted, it can simply be run again. Run it only
    after every server was restarted following `keys rotate --activate`. The progress bar
    goes to stderr; with --json, stdout holds only the result.
    """
    with progress("rewrapping") as advance:

        async def work(runtime: Runtime) -> key_lifecycle.RewrapResult:
            return await key_lifecycle.rewrap(runtime, batch_size=batch_size, progress=advance)

        result = run(Settings(), work)
    if as_json:
        print_json({"rewrapped": result.rewrapped, "skipped": result.skipped})
    typer.echo(f"rewrapped {result.rewrapped} wrap(s), skipped {result.skipped}", err=True)
    if result.skipped:
        fail(f"{result.skipped} wrap(s) could not be rewrapped — see `casehub keys status`")


def status(as_json: JsonFlag = False) -> None:
    """Key versions (active, pending, retired) and how many data-key wraps each holds."""
    rows = [
        {"version": row.version, "state": _state(row), "wraps": row.wraps}
        for row in run(Settings(), key_lifecycle.key_status)
    ]
    # Tab-separated, for scripts that predate --json.
    lines = [
        "version\tstate\twraps",
        *(f"{r['version']}\t{r['state']}\t{r['wraps']}" for r in rows),
    ]
    emit(rows, as_json, lambda: "\n".join(lines))


def _state(row: key_lifecycle.VersionStatus) -> str:
    if not row.in_keyring:
        return "MISSING"
    if row.active:
        return "active"
    return "pending" if row.pending else "decrypt-only"


def retire(
    version: Annotated[int, typer.Argument(help="The key version to remove.")],
) -> None:
    """Remove a key version from the keyring; refused while it is active or any wrap uses it."""

    async def work(runtime: Runtime) -> None:
        await key_lifecycle.retire(runtime, version)

    run(Settings(), work)
    typer.echo(f"retired key version {version}", err=True)


def reindex(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Identifiers per transaction.")
    ] = 500,
    as_json: JsonFlag = False,
) -> None:
    """Compute the blind indexes and match tokens of identifiers stored without them (those
    written before deconfliction existed), online and resumable; new ones get theirs at once.
    A spinner shows on stderr while it runs; with --json, stdout holds only the result."""

    async def work(runtime: Runtime) -> tuple[int, int]:
        with spinner("indexing identifiers"):
            return await identifier_index.index_missing(runtime, batch=batch_size)

    indexed, skipped = run(Settings(), work)
    if as_json:
        print_json({"indexed": indexed, "skipped": skipped})
    typer.echo(f"indexed {indexed} identifier(s), skipped {skipped}", err=True)
    if skipped:
        typer.echo(
            "skipped identifiers have no canonical form under today's rules (or no readable "
            "key): they are not searchable and never match; correct them by adding the "
            "identifier again",
            err=True,
        )


def register(keys_app: typer.Typer) -> None:
    """Add the rotation and index commands to the `keys` group."""
    keys_app.command("rotate")(rotate)
    keys_app.command("rewrap")(rewrap)
    keys_app.command("status")(status)
    keys_app.command("retire")(retire)
    keys_app.command("reindex")(reindex)
