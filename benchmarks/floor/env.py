"""What every floor endpoint shares."""

from __future__ import annotations

from dataclasses import dataclass

from casehub.crypto import KeyProvider


@dataclass(frozen=True, slots=True)
class Env:
    """The keyring and the limits the endpoints apply, loaded once per process."""

    keys: KeyProvider
    max_evidence_bytes: int
    hit_check_per_minute: int
