"""The live feeds without a writers' lock (casehub.persistence.horizon, casehub.services.feeds):
a row committed while an older writing transaction still runs waits behind the commit-safe
horizon, rows are delivered in (position_xid, seq) order, and a subscriber resuming with the
last `seq` it received misses nothing and repeats nothing, with writers racing on several
engines (PostgreSQL) or tasks (SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlmodel import col

from casehub.persistence.tables import HitNoticeRow, RequestEventRow
from casehub.services.deconfliction.hits import HitNoticeFeed
from casehub.services.feeds import follow_feed
from casehub.services.requests import inbox
from casehub.services.runtime import Principal, Runtime, open_scope
from tests.conftest import World
from tests.integration.feed_support import (
    Passes,
    Stream,
    Subscriber,
    check,
    create_request,
    engines,
    held_open,
    positions,
    post,
    principal_of,
    submit,
)
from tests.support import seed_cases

RECHECK = 0.2  # seconds between a racing follower's own looks (announcements wake it sooner)
QUIET_PASSES = 3  # passes a drained follower begins, that must bring nothing more


def postgres_only(runtime: Runtime) -> None:
    """Skip on SQLite, where a writing transaction held open blocks every other writer."""
    if runtime.database.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: none can be held open beside another")


def events_of(runtime: Runtime, principal: Principal, since: int | None) -> Stream:
    """The request-event inbox, waiting for announcements (and held rows) alone."""
    return inbox.follow(runtime, principal, since=since)


def racing_events(runtime: Runtime, principal: Principal, since: int | None) -> Stream:
    """The request-event inbox in small batches, cut short and resumed often."""
    return inbox.follow(runtime, principal, since=since, batch=3, recheck=RECHECK)


def racing_notices(runtime: Runtime, principal: Principal, since: int | None) -> Stream:
    """The hit-notice feed in small batches."""
    return follow_feed(runtime, principal, HitNoticeFeed(), since=since, batch=2, recheck=RECHECK)


async def latest_seq(runtime: Runtime) -> int:
    """The newest request event's seq."""
    async with open_scope(runtime) as scope:
        return await scope.store.latest_event_seq()


async def events_where(runtime: Runtime, *where: Any) -> list[RequestEventRow]:
    """Committed request events matching `where`, by seq."""
    async with open_scope(runtime) as scope:
        statement = select(RequestEventRow).where(*where).order_by(col(RequestEventRow.seq))
        return list((await scope.store.session.execute(statement)).scalars().all())


async def replay(
    runtime: Runtime, principal: Principal, since: int, expected: int
) -> tuple[list[UUID], list[UUID]]:
    """What a subscriber resuming with `since` receives: once `expected` rows came, and after
    the follower made a few more passes (nothing more may come)."""
    passes = Passes(runtime)
    subscriber = Subscriber(runtime, principal, events_of, since).start()
    try:
        await subscriber.until(expected)
        first = subscriber.ids
        await passes.wait(QUIET_PASSES)
        return first, subscriber.ids
    finally:
        await subscriber.stop()
        passes.close()


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_a_row_committed_behind_an_open_writer_waits_then_comes_in_position_order(
    runtime: Runtime, world: World, ending: str
) -> None:
    postgres_only(runtime)
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    requester = await principal_of(runtime, police.token)
    first, second = [await create_request(runtime, requester, platform.uuid) for _ in range(2)]
    since = await latest_seq(runtime)
    async with engines(runtime, 1) as (own,):
        passes = Passes(own)
        subscriber = Subscriber(own, requester, events_of, since).start()
        try:
            async with held_open(runtime, requester) as older:
                # The older transaction has its id; a younger one commits an event meanwhile.
                await post(runtime, requester, second, "younger, committed first")
                (younger,) = await events_where(
                    runtime, col(RequestEventRow.request_id) == second, RequestEventRow.number == 2
                )
                # Its event, drawn after the younger one's, goes before it in the feed.
                late = await older.message(first, "older, committed last")
                assert late.seq is not None
                assert younger.seq is not None
                assert late.seq > younger.seq
                assert (late.position_xid, late.seq) < (younger.position_xid, younger.seq)

                await passes.wait(QUIET_PASSES)
                assert subscriber.received == []  # held behind the horizon
                async with open_scope(own) as scope:
                    horizon = await scope.store.feed_horizon(RequestEventRow)
                    beyond = await scope.store.feed_beyond(RequestEventRow, horizon, 100)
                assert horizon <= (older.xid, 0)
                assert (younger.position_xid, younger.seq) in beyond

                # Nobody announces the end: the follower looks again by itself.
                await (older.commit() if ending == "commit" else older.rollback())
            wanted = [late.id, younger.id] if ending == "commit" else [younger.id]
            await subscriber.until(len(wanted), within=5.0)
            await passes.wait(QUIET_PASSES)
        finally:
            await subscriber.stop()
            passes.close()
        assert subscriber.ids == wanted
        found = await positions(own, RequestEventRow, subscriber.ids)
        assert found == sorted(found)

        # Two more events; a subscriber resuming after the last row it received gets those
        # alone, though that row's seq is below the first one's.
        await post(runtime, requester, first, "after, on the first")
        await post(runtime, requester, second, "after, on the second")
        news = await events_where(runtime, col(RequestEventRow.seq) > younger.seq)
        news = [row for row in news if row.request_id in (first, second) and row.id != late.id]
        assert len(news) == 2
        assert await replay(own, requester, younger.seq, 2) == ([r.id for r in news],) * 2
        if ending == "commit":
            # One that received only the older transaction's event gets the younger one's too.
            got = await replay(own, requester, late.seq, 3)
            assert got == ([younger.id, *[r.id for r in news]],) * 2


async def test_racing_writers_and_a_resuming_subscriber_miss_and_repeat_nothing(
    runtime: Runtime, world: World
) -> None:
    postgres = runtime.database.dialect == "postgresql"
    writers = 6 if postgres else 3
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    requester = await principal_of(runtime, police.token)
    requested = await principal_of(runtime, platform.token)
    requests = [await create_request(runtime, requester, platform.uuid) for _ in range(4)]
    for request_id in requests:
        await submit(runtime, requester, request_id)

    async def write(own: Runtime, number: int) -> None:
        draw = random.Random(number)
        for count in range(8):
            author = requester if (number + count) % 2 else requested
            request_id, body = draw.choice(requests), f"writer {number}, message {count}"
            if not postgres or number % 2 == 0:
                await post(own, author, request_id, body)
                continue
            # Half the writers linger between taking their transaction id, writing and
            # committing: younger transactions commit meanwhile, on other requests.
            async with held_open(own, author) as held:
                await asyncio.sleep(draw.uniform(0, 0.02))
                event = await held.message(request_id, body)
                await asyncio.sleep(draw.uniform(0, 0.02))
                await held.commit()
            await own.bus.published(event.seq or 0)

    async with engines(runtime, writers + 1) as (own, *others):
        # A new agency: from 0, its inbox is this test's events alone.
        subscriber = Subscriber(
            own, requested, racing_events, 0, resume_after=(1, 4), seed=writers
        ).start()
        passes = Passes(own)
        try:
            await asyncio.gather(*(write(other, n) for n, other in enumerate(others)))
            visible = await events_where(
                runtime,
                col(RequestEventRow.request_id).in_(requests),
                col(RequestEventRow.visible_to_requested),
            )
            assert len(visible) == len(requests) + writers * 8  # the submissions and messages
            await subscriber.until(len(visible))
            await passes.wait(QUIET_PASSES)
        finally:
            await subscriber.stop()
            passes.close()

        assert Counter(subscriber.ids) == Counter(row.id for row in visible)
        assert len(subscriber.connections) > len(visible) // 4  # it did resume, many times
        # Each request's events in their order, the whole in feed order, across resumptions.
        numbers: dict[UUID, list[int]] = {}
        for view in subscriber.received:
            numbers.setdefault(view.request_id, []).append(view.number)
        assert all(got == sorted(got) for got in numbers.values())
        found = await positions(own, RequestEventRow, subscriber.ids)
        assert found == sorted(found)


async def test_racing_hit_checks_and_a_resuming_subscriber_miss_and_repeat_nothing(
    runtime: Runtime, world: World
) -> None:
    postgres = runtime.database.dialect == "postgresql"
    writers, checks = (4, 4) if postgres else (2, 3)
    holder = await world.agency("HLD", "MY")
    await seed_cases(runtime, holder.token, 1, "HORIZON")  # holds +60123450000
    holding = await principal_of(runtime, holder.token)
    # One asking agency a writer: an agency's own checks queue on its allowance.
    asking = [
        await principal_of(runtime, (await world.agency("ASK")).token) for _ in range(writers)
    ]

    async def write(own: Runtime, principal: Principal) -> None:
        for _ in range(checks):
            await check(own, principal, "+60123450000")

    async with engines(runtime, writers + 1) as (own, *others):
        subscriber = Subscriber(own, holding, racing_notices, 0, resume_after=(1, 3)).start()
        passes = Passes(own, own.notices)
        try:
            await asyncio.gather(*(write(o, p) for o, p in zip(others, asking, strict=True)))
            async with open_scope(runtime) as scope:
                statement = select(col(HitNoticeRow.id)).where(
                    col(HitNoticeRow.agency_id) == holder.uuid
                )
                sent = list((await scope.store.session.execute(statement)).scalars().all())
            assert len(sent) == writers * checks
            await subscriber.until(len(sent))
            await passes.wait(QUIET_PASSES)
        finally:
            await subscriber.stop()
            passes.close()
        assert Counter(subscriber.ids) == Counter(sent)
        assert len(subscriber.connections) > 1
        found = await positions(own, HitNoticeRow, subscriber.ids)
        assert found == sorted(found)


async def test_from_now_skips_rows_committed_before_even_behind_the_horizon(
    runtime: Runtime, world: World
) -> None:
    postgres = runtime.database.dialect == "postgresql"
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE")
    requester = await principal_of(runtime, police.token)
    first, second = [await create_request(runtime, requester, platform.uuid) for _ in range(2)]
    async with engines(runtime, 1) as (own,), held_open_if(postgres, runtime, requester) as older:
        # Running when the subscription begins: an older writer's event (PostgreSQL) ...
        late = await older.message(first, "in flight at subscription") if older else None
        # ... and a committed one, behind the horizon while that writer runs.
        await post(runtime, requester, second, "committed before subscribing")
        (before,) = await events_where(
            runtime, col(RequestEventRow.request_id) == second, RequestEventRow.number == 2
        )
        if older is not None:
            async with open_scope(own) as scope:
                horizon = await scope.store.feed_horizon(RequestEventRow)
            assert horizon <= (older.xid, 0) < (before.position_xid, 0)
        passes = Passes(own)
        subscriber = Subscriber(own, requester, events_of, None).start()
        try:
            await passes.wait(1)  # it took its horizon and history, and began reading
            await post(runtime, requester, second, "committed after subscribing")
            if older is not None:
                await older.commit()
            after = await events_where(
                runtime, col(RequestEventRow.request_id) == second, RequestEventRow.number == 3
            )
            wanted = ([late.id] if late else []) + [row.id for row in after]
            await subscriber.until(len(wanted), within=5.0)
            await passes.wait(QUIET_PASSES)
        finally:
            await subscriber.stop()
            passes.close()
        assert subscriber.ids == wanted
        assert before.id not in subscriber.ids


def held_open_if(wanted: bool, runtime: Runtime, principal: Principal) -> Any:
    """`held_open` on PostgreSQL; nothing (None) on SQLite."""
    return held_open(runtime, principal) if wanted else contextlib.nullcontext()
