"""Queries on the registry of GraphQL documents."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlmodel import col

from casehub.persistence.base import StoreBase
from casehub.persistence.tables import RegisteredDocumentRow


class DocumentQueries(StoreBase):
    """Reads and writes of registered documents."""

    async def document_by_id(self, document_id: str) -> RegisteredDocumentRow | None:
        """The document with this id."""
        statement = select(RegisteredDocumentRow).where(
            col(RegisteredDocumentRow.id) == document_id
        )
        return await self._one_or_none(statement)

    async def documents_page(
        self, *, first: int, after: str | None = None
    ) -> list[RegisteredDocumentRow]:
        """Documents in id order, after a cursor."""
        statement = (
            select(RegisteredDocumentRow).order_by(col(RegisteredDocumentRow.id)).limit(first)
        )
        if after is not None:
            statement = statement.where(col(RegisteredDocumentRow.id) > after)
        return await self._all(statement)

    async def registered_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these ids are registered."""
        wanted = list(set(ids))
        if not wanted:
            return set()
        statement = select(col(RegisteredDocumentRow.id)).where(
            col(RegisteredDocumentRow.id).in_(wanted)
        )
        return set(await self._all(statement))

    async def count_documents(self) -> int:
        """How many documents are registered."""
        return await self.count_rows(RegisteredDocumentRow)

    async def remove_document(self, document_id: str) -> bool:
        """Delete the document with this id; whether there was one."""
        statement = delete(RegisteredDocumentRow).where(
            col(RegisteredDocumentRow.id) == document_id
        )
        result = await self._execute(statement)
        return bool(getattr(result, "rowcount", 0))
