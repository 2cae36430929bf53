"""Commit-safe horizons without a lock: which rows can no longer be overtaken by a commit.

On PostgreSQL every writing transaction stamps its rows with its own transaction id
(`pg_current_xact_id()`). A snapshot's xmin is the oldest transaction id still running, so
every row stamped below it was written by a transaction that has ended: it is visible now if it
will ever be, and any transaction still to commit stamps at or above the horizon. Reading up to
the horizon in (stamp, seq) order therefore never skips a row that commits later, whatever order
sequence numbers were drawn in, and needs no lock shared by writers. Read-only transactions hold
no transaction id and so never hold the horizon back; a long *writing* transaction does (the
feeds and the audit sequencer wait for it, which the operations guide says).

SQLite has one writer at a time, whose sequence numbers are drawn and committed in order: every
stamp is 0 and the horizon is past every row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, literal, literal_column

# Above any PostgreSQL transaction id (64-bit, epoch included) a database here will reach.
BEYOND = 2**62


def stamp(dialect: str) -> Any:
    """The SQL value stamping a row with the writing transaction (assigns it an id if needed)."""
    if dialect == "postgresql":
        return literal_column("pg_current_xact_id()::text::bigint", BigInteger)
    return literal(0, BigInteger)


def horizon(dialect: str) -> Any:
    """The SQL value below which every stamp belongs to an ended transaction, as of the
    statement's snapshot."""
    if dialect == "postgresql":
        return literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)
    return literal(BEYOND, BigInteger)
