"""The replay cache of DPoP proofs (RFC 9449): every proof accepted once, across replicas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import DpopProofRow

# Expired proofs each new one deletes at most: the cache stays bounded by the proofs of one
# skew window, and no request pays for a long backlog.
PRUNE_BATCH = 100


class ProofQueries(StoreBase):
    """Writes of the used DPoP proofs."""

    async def remember_proof(self, jkt: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record a DPoP proof as used until `expires_at` (deleting a few expired ones); False
        when it was recorded already, by any replica: a replay. Commit before relying on it."""
        proof = (col(DpopProofRow.jkt), col(DpopProofRow.jti))
        expired = select(*proof).where(col(DpopProofRow.expires_at) < now).limit(PRUNE_BATCH)
        values = {"jkt": jkt, "jti": jti, "expires_at": expires_at}
        postgres = self.dialect == "postgresql"
        if postgres:
            # Replicas pruning at once skip each other's rows rather than wait for them.
            expired = expired.with_for_update(skip_locked=True)
        insert = postgresql.insert if postgres else sqlite.insert
        # The row comes back only when it was added (a driver's rowcount is no such promise).
        add = (
            insert(DpopProofRow)
            .values(values)
            .on_conflict_do_nothing()
            .returning(col(DpopProofRow.jti))
        )
        async with self._lock:
            await self.session.execute(delete(DpopProofRow).where(tuple_(*proof).in_(expired)))
            # A concurrent insert of the same proof waits for the first to commit, then adds
            # nothing: exactly one of them is told the proof is new.
            added = (await self.session.execute(add)).first()
        return added is not None
