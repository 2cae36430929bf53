"""Key rotation without downtime: status of key versions, online rewrap, retirement.

The runbook (see docs/KEYS.md): `casehub keys rotate` adds a decrypt-only version; restart
every server; `casehub keys rotate --activate` makes it the one new wraps use; restart every
server again; `casehub keys rewrap` moves the old wraps over in short batches while the
servers keep serving; `casehub keys retire OLD` removes the old version once no wrap uses it.
A data key itself never changes, so field ciphertexts are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from casehub.crypto import (
    DecryptionError,
    KeyringError,
    retire_version,
    unwrap_data_key,
    wrap_data_key,
)
from casehub.domain.errors import Conflict, NotFound, ValidationFailed
from casehub.persistence.keys.queries import KeyQueries
from casehub.services.audit import trail as audit
from casehub.services.runtime import Runtime

Progress = Callable[[int, int], None]
"""Called after each batch with (wraps done so far, wraps to do in all)."""


@dataclass(frozen=True, slots=True)
class VersionStatus:
    """One key version: whether new wraps use it, whether it only decrypts, its wraps."""

    version: int
    active: bool
    pending: bool
    in_keyring: bool
    wraps: int


@dataclass(frozen=True, slots=True)
class RewrapResult:
    """What a rewrap run did: wraps moved to the active version, and wraps skipped."""

    rewrapped: int
    skipped: int


async def key_status(runtime: Runtime) -> list[VersionStatus]:
    """Every version in the keyring or used by a wrap, with its number of wraps."""
    async with runtime.database.session() as session:
        counts = await KeyQueries(session).wrap_counts_by_version()
    keys = runtime.keys
    known = set(keys.versions)
    pending = set(keys.pending_versions)
    return [
        VersionStatus(
            version=version,
            active=version == keys.active_version,
            pending=version in pending,
            in_keyring=version in known,
            wraps=counts.get(version, 0),
        )
        for version in sorted(known | set(counts))
    ]


async def rewrap(
    runtime: Runtime, *, batch_size: int = 500, progress: Progress | None = None
) -> RewrapResult:
    """Rewrap every data-key wrap not under the active version, one transaction a batch.

    Online: servers keep reading while it runs, since every wrap is valid under either
    version at every moment. Resumable: a second run picks up what the first left. A wrap
    changed or removed meanwhile (shared, withdrawn, shredded) is left to its new owner.
    """
    if batch_size < 1:
        raise ValidationFailed("The batch size must be at least 1.", ["batchSize"])
    keys = runtime.keys
    target = keys.active_version
    done = skipped = 0
    after: UUID | None = None
    async with runtime.database.session() as session:
        queries = KeyQueries(session)
        total = await queries.count_wraps_not_under(target)
        await queries.end_read()
        if progress is not None:
            progress(0, total)
        while True:
            async with queries.transaction():
                batch = await queries.wraps_not_under(target, limit=batch_size, after=after)
                for wrap in batch:
                    try:
                        key = unwrap_data_key(
                            keys,
                            scope_id=wrap.scope_id,
                            generation=wrap.generation,
                            agency_id=wrap.agency_id,
                            version=wrap.kek_version,
                            blob=wrap.wrapped,
                        )
                    except DecryptionError:
                        # Unknown version or damaged wrap: leave it for `keys status` to show.
                        skipped += 1
                        continue
                    version, blob = wrap_data_key(keys, key, wrap.agency_id)
                    moved = await queries.replace_wrap(
                        wrap.id,
                        old_version=wrap.kek_version,
                        old_blob=wrap.wrapped,
                        version=version,
                        blob=blob,
                    )
                    done += 1 if moved else 0
                    skipped += 0 if moved else 1
            if not batch:
                break
            after = batch[-1].id
            if progress is not None:
                progress(done + skipped, total)
    details = {"version": target, "rewrapped": done, "skipped": skipped}
    await audit.record_alone(runtime, audit.AuditEntry(action="keys.rewrap", details=details))
    return RewrapResult(rewrapped=done, skipped=skipped)


async def retire(runtime: Runtime, version: int) -> None:
    """Remove a version from the local keyring; refused (Conflict) while it is active or any
    wrap still uses it. Servers keep the retired key in memory until restarted, harmlessly.
    """
    if version == runtime.keys.active_version:
        raise Conflict(f"Key version {version} is the active one and cannot be retired.")
    if version not in runtime.keys.versions:
        raise NotFound(f"Key version {version} is not in the keyring.", ["version"])
    async with runtime.database.session() as session:
        counts = await KeyQueries(session).wrap_counts_by_version()
    still = counts.get(version, 0)
    if still:
        raise Conflict(
            f"Key version {version} still holds {still} data-key wrap(s): "
            "run `casehub keys rewrap` first."
        )
    try:
        retire_version(runtime.settings.keyring, version)
    except KeyringError as error:
        raise Conflict(str(error)) from None
    await audit.record_alone(
        runtime, audit.AuditEntry(action="keys.retire", details={"version": version})
    )
