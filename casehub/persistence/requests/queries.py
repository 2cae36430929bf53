"""Queries on cooperation requests, their events, messages and evidence copies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import (
    DuplicateError,
    Position,
    StoreBase,
    Templates,
    among,
    bound,
)
from casehub.persistence.tables import (
    AgencySigningKeyRow,
    CooperationRequestRow,
    RequestEventRow,
    RequestEvidenceRow,
    RequestMessageRow,
    RequestSignatureRow,
)

Request = CooperationRequestRow


# Hot reads, built once per dialect (persistence.base.Templates says why).
_HOT = Templates()


def _links_template(dialect: str) -> Any:
    return select(col(Request.case_id), col(Request.status)).where(
        among(col(Request.case_id), "cases", dialect),
        col(Request.requested_agency_id) == bindparam("agency"),
    )


def _signature_template() -> Any:
    signature = RequestSignatureRow.__table__.c  # type: ignore[attr-defined]
    key = AgencySigningKeyRow.__table__.c  # type: ignore[attr-defined]
    names = [column.name for column in signature if column.name != "key_id"]
    source = (
        select(*(bindparam(name, type_=signature[name].type) for name in names), key.id)
        .where(
            key.id == bindparam("key_id"),
            key.revoked_at.is_not_distinct_from(bindparam("seen", type_=key.revoked_at.type)),
        )
        .with_for_update(read=True, key_share=True)
    )
    return (
        insert(RequestSignatureRow.__table__)  # type: ignore[attr-defined]
        .from_select([*names, "key_id"], source)
        .returning(signature.id)
    )


class RequestQueries(StoreBase):
    """Reads and writes of requests; visibility rules are the services' to apply."""

    async def requests_by_ids(self, ids: Iterable[UUID]) -> list[CooperationRequestRow]:
        """Requests with these ids, fresh from the database."""
        return await self._by_ids(Request, ids)

    async def party_requests_by_ids(
        self, ids: Iterable[UUID], agency_id: UUID
    ) -> list[CooperationRequestRow]:
        """Requests with these ids that the agency is party to (as in
        domain.requests.reaches_requested: the requested agency once submitted), fresh from
        the database; another agency's request is never read, as a missing one."""
        wanted = list(set(ids))
        if not wanted:
            return []
        statement = select(Request).where(
            col(Request.id).in_(wanted),
            or_(
                col(Request.requester_agency_id) == agency_id,
                and_(
                    col(Request.requested_agency_id) == agency_id,
                    col(Request.submitted_at).is_not(None),
                ),
            ),
        )
        return await self._all(statement.execution_options(populate_existing=True))

    async def lock_request(self, request_id: UUID) -> None:
        """Hold the request's row until the transaction ends (what is added to its thread)."""
        await self._lock_row(Request, request_id, col(Request.version))

    async def update_request_if_version(
        self, request_id: UUID, expected_version: int, values: dict[str, Any]
    ) -> bool:
        """Compare-and-set on the request's version: of two racing transitions one wins."""
        statement = (
            update(Request)
            .where(col(Request.id) == request_id, col(Request.version) == expected_version)
            .values(version=expected_version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._execute(statement)
        return bool(result.rowcount == 1)

    @staticmethod
    def _party(agency_id: UUID) -> Any:
        return or_(
            col(Request.requester_agency_id) == agency_id,
            (col(Request.requested_agency_id) == agency_id)
            & col(Request.submitted_at).is_not(None),
        )

    def _page_filter(
        self,
        agency_id: UUID,
        direction: str | None,
        statuses: list[str] | None,
        overdue_at: datetime | None,
    ) -> list[Any]:
        # Values or bind parameters alike (a page's statement is built once, `_page_template`).
        conditions: list[Any] = [self._party(agency_id)]
        if direction == "OUTGOING":
            conditions.append(col(Request.requester_agency_id) == agency_id)
        elif direction == "INCOMING":
            conditions.append(col(Request.requested_agency_id) == agency_id)
        if statuses is not None:
            conditions.append(col(Request.status).in_(statuses))
        if overdue_at is not None:
            conditions.append(col(Request.pending_until) < overdue_at)
        return conditions

    async def requests_page(
        self,
        *,
        agency_id: UUID,
        direction: str | None,
        statuses: list[str] | None,
        overdue_at: datetime | None,
        keys: KeyRange[UUID],
    ) -> list[CooperationRequestRow]:
        """The requests the agency is party to in a range of ids (`statuses` None: any), as
        column rows (a page only renders them)."""
        shape = (direction, statuses is not None, overdue_at is not None, keysets.shape(keys))
        statement = _HOT.get(("page", *shape), lambda: self._page_template(*shape))
        params = {
            "agency": agency_id,
            "statuses": statuses,
            "overdue_at": overdue_at,
            **keysets.values(keys),
        }
        return await self._column_rows(statement, params)

    def _page_template(
        self, direction: str | None, statuses: bool, overdue: bool, keyed: keysets.Shape
    ) -> Select[Any]:
        conditions = self._page_filter(
            bound("agency"),
            direction,
            bound("statuses", expanding=True) if statuses else None,
            bound("overdue_at") if overdue else None,
        )
        statement = select(*Request.__table__.c).where(*conditions)  # type: ignore[attr-defined]
        return keysets.apply(statement, col(Request.id), keysets.bound_range(keyed))  # type: ignore[no-any-return]

    async def count_requests(
        self,
        *,
        agency_id: UUID,
        direction: str | None,
        statuses: list[str] | None,
        overdue_at: datetime | None,
    ) -> int:
        """How many requests the same filter matches."""
        statement = select(func.count()).select_from(Request)
        statement = statement.where(*self._page_filter(agency_id, direction, statuses, overdue_at))
        return await self._one(statement)

    async def overdue_requests(self, now: datetime, limit: int) -> list[CooperationRequestRow]:
        """Every request past the deadline of the step it waits on, oldest deadline first."""
        statement = (
            select(Request)
            .where(col(Request.pending_until) < now)
            .order_by(col(Request.pending_until))
            .limit(limit)
        )
        return await self._all(statement)

    async def request_links(
        self, case_ids: Iterable[UUID], agency_id: UUID
    ) -> list[tuple[UUID, str]]:
        """(case id, status) of the requests to this agency that link these cases."""
        wanted = list(set(case_ids))
        if not wanted:
            return []
        links = _HOT.get(("links", self.dialect), lambda: _links_template(self.dialect))
        params = {"cases": wanted, "agency": agency_id}
        async with self._lock:
            rows = (await self.session.execute(links, params)).all()
        return [(case_id, status) for case_id, status in rows if case_id is not None]

    async def count_case_links(self, case_id: UUID, statuses: Iterable[str]) -> int:
        """How many requests in one of `statuses` link this case."""
        statement = select(func.count()).where(
            col(Request.case_id) == case_id, col(Request.status).in_(list(statuses))
        )
        return int(await self._one(statement))

    async def attachments_to(
        self, case_ids: Iterable[UUID], evidence_ids: Iterable[UUID], agency_id: UUID
    ) -> list[tuple[RequestEvidenceRow, CooperationRequestRow]]:
        """Copies of these evidence items attached to submitted requests to this agency that
        link these cases, each with its request."""
        cases, items = list(set(case_ids)), list(set(evidence_ids))
        if not cases or not items:
            return []
        statement = (
            select(RequestEvidenceRow, Request)
            .join(Request, col(Request.id) == col(RequestEvidenceRow.request_id))
            .where(
                col(Request.case_id).in_(cases),
                col(Request.requested_agency_id) == agency_id,
                col(Request.submitted_at).is_not(None),
                col(RequestEvidenceRow.role) == "ATTACHED",
                col(RequestEvidenceRow.evidence_id).in_(items),
            )
            .order_by(col(RequestEvidenceRow.added_at), col(RequestEvidenceRow.id))
        )
        async with self._lock:
            rows = (await self.session.execute(statement)).all()
        return [(copy, request) for copy, request in rows]

    # Events

    async def events_by_request(
        self, request_ids: Iterable[UUID], per_request: int | None = None
    ) -> list[RequestEventRow]:
        """Events of these requests in order (the first `per_request` of each when given), as
        column rows (events are never changed)."""
        return await self._columns_by_parent(
            RequestEventRow, RequestEventRow.request_id, request_ids, per_request
        )

    async def last_event(self, request_id: UUID) -> RequestEventRow | None:
        """The newest event of a request."""
        statement = (
            select(RequestEventRow)
            .where(col(RequestEventRow.request_id) == request_id)
            .order_by(col(RequestEventRow.number).desc())
            .limit(1)
        )
        return await self._one_or_none(statement)

    async def events_between(
        self, agency_id: UUID, after: Position, before: Position, limit: int
    ) -> list[tuple[Position, RequestEventRow]]:
        """Events this agency may see with feed positions after `after` and before `before`,
        in feed order, each with its position."""
        position = tuple_(col(RequestEventRow.position_xid), col(RequestEventRow.seq))
        statement = (
            select(RequestEventRow)
            .where(
                position > tuple_(*after),
                position < tuple_(*before),
                or_(
                    col(RequestEventRow.requester_agency_id) == agency_id,
                    (col(RequestEventRow.requested_agency_id) == agency_id)
                    & col(RequestEventRow.visible_to_requested),
                ),
            )
            .order_by(col(RequestEventRow.position_xid), col(RequestEventRow.seq))
            .limit(limit)
        )
        return [((row.position_xid, row.seq or 0), row) for row in await self._all(statement)]

    async def latest_event_seq(self) -> int:
        """The newest event sequence number (0 when there is none)."""
        value = await self._one(select(func.max(col(RequestEventRow.seq))))
        return int(value or 0)

    async def signatures_by_request(self, request_ids: Iterable[UUID]) -> list[RequestSignatureRow]:
        """Agency signatures on the steps of these requests, oldest first."""
        return await self._by_parent(
            RequestSignatureRow, RequestSignatureRow.request_id, request_ids
        )

    async def add_request_signature(
        self, values: dict[str, Any], *, revoked_at: datetime | None
    ) -> bool:
        """Insert one step signature (its event already flushed) unless its key's revocation is
        no longer `revoked_at` as the step read it; False when it changed (nothing written).

        One statement, INSERT … SELECT from the key's row: on PostgreSQL the SELECT locks the
        row FOR KEY SHARE, so a revocation in flight (which holds FOR UPDATE) is waited for
        and its outcome seen, and one that comes later waits for this transaction and sees
        this signature; steps signed with one key do not wait for each other. On SQLite the
        transaction already holds the single write lock. A nonce used twice with one key
        raises DuplicateError."""
        statement = _HOT.get(("signature",), _signature_template)
        try:
            async with self._lock:
                result = await self.session.execute(statement, {**values, "seen": revoked_at})
        except IntegrityError as exc:
            raise DuplicateError from exc
        return result.first() is not None

    # Messages and evidence copies

    async def messages_by_request(
        self, request_ids: Iterable[UUID], per_request: int | None = None
    ) -> list[RequestMessageRow]:
        """Messages of these requests in order (the first `per_request` of each when given)."""
        return await self._by_parent(
            RequestMessageRow, RequestMessageRow.request_id, request_ids, per_request
        )

    async def count_messages(self, request_id: UUID, kind: str) -> int:
        """How many messages of one kind a request's thread holds."""
        statement = select(func.count()).where(
            col(RequestMessageRow.request_id) == request_id, col(RequestMessageRow.kind) == kind
        )
        return int(await self._one(statement))

    async def request_evidence(
        self, request_ids: Iterable[UUID], per_request: int | None = None
    ) -> list[RequestEvidenceRow]:
        """Evidence copies of these requests in order (the first `per_request` of each when
        given)."""
        return await self._by_parent(
            RequestEvidenceRow, RequestEvidenceRow.request_id, request_ids, per_request
        )

    async def drop_request_evidence(self, request_id: UUID, role: str) -> None:
        """Destroy the copies of one role: the other party can no longer decrypt them."""
        await self._execute(
            delete(RequestEvidenceRow).where(
                col(RequestEvidenceRow.request_id) == request_id,
                col(RequestEvidenceRow.role) == role,
            )
        )

    # Operator reads

    async def overdue_page(
        self, now: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[CooperationRequestRow]:
        """A page of the requests past their pending deadline, by (deadline, id) after a key."""
        statement = select(Request).where(col(Request.pending_until) < now)
        if after is not None:
            deadline, request_id = after
            statement = statement.where(
                or_(
                    col(Request.pending_until) > deadline,
                    (col(Request.pending_until) == deadline) & (col(Request.id) > request_id),
                )
            )
        statement = statement.order_by(col(Request.pending_until), col(Request.id)).limit(limit)
        return await self._all(statement)
