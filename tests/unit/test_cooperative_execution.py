"""The executor lets the event loop run while it completes a large answer, whether one long
list or many short nested ones: other tasks are served meanwhile, and a time budget (a
cancellation) cuts a CPU-bound operation instead of waiting for its end."""

from __future__ import annotations

import asyncio
import time

import pytest
import strawberry

from casehub.api.execution.fast_path import SLICE, FastExecutor

COMPLETED: list[int] = []  # one item per `tick` resolved


@strawberry.type
class Leaf:
    id: int
    name: str

    @strawberry.field
    def tick(self) -> int:
        """Counts the leaves completed: how far an operation got, whatever the clock says."""
        COMPLETED.append(self.id)
        return self.id


@strawberry.type
class Branch:
    id: int

    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [Leaf(id=n, name="x") for n in range(10)]


@strawberry.type
class Trunk:
    id: int

    @strawberry.field
    def branches(self) -> list[Branch]:
        return [Branch(id=n) for n in range(100)]


@strawberry.type
class Query:
    @strawberry.field
    def leaves(self) -> list[Leaf]:
        return [Leaf(id=n, name="x") for n in range(20_000)]

    @strawberry.field
    def trunks(self) -> list[Trunk]:
        return [Trunk(id=n) for n in range(20)]


SCHEMA = strawberry.Schema(query=Query, execution_context_class=FastExecutor)
DOCUMENTS = {
    "one-long-list": "{ leaves { id name } }",
    "nested-short-lists": "{ trunks { id branches { id leaves { id name } } } }",
}


async def ticks(gaps: list[float], stop: asyncio.Event) -> None:
    """How long a task asking for a turn of the loop every millisecond waits each time."""
    last = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


@pytest.mark.parametrize("shape", DOCUMENTS)
async def test_a_large_answer_leaves_the_loop_to_other_tasks(shape: str) -> None:
    gaps: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(ticks(gaps, stop))
    started = time.monotonic()
    result = await SCHEMA.execute(DOCUMENTS[shape])
    took = time.monotonic() - started
    stop.set()
    await ticker
    assert result.errors is None
    assert result.data is not None
    assert result.data == (await SCHEMA.execute(DOCUMENTS[shape])).data  # complete, in order
    # In one piece, the answer would hold the loop for all of `took` (one tick). The typical
    # wait, not the longest: a busy machine or the garbage collector may pause the process.
    assert took > 10 * SLICE
    assert len(gaps) >= 4, (len(gaps), took)
    assert sorted(gaps)[len(gaps) // 2] < took / 4, (gaps, took)


@pytest.mark.parametrize("shape", DOCUMENTS)
async def test_a_cpu_bound_operation_is_cut_by_its_budget(shape: str) -> None:
    # Four times the answer (aliases): long enough that a pause of the machine cannot pass
    # for the operation's own end.
    fields = DOCUMENTS[shape][2:-2].replace("name", "name tick")  # without the outer braces
    document = "{ " + " ".join(f"a{n}: {fields}" for n in range(4)) + " }"
    # Work done, not time taken: a pause of the machine (or a collection of the test process's
    # heap) may delay the cut, but the operation cannot run on past it.
    COMPLETED.clear()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.02):
            await SCHEMA.execute(document)
    cut = len(COMPLETED)
    COMPLETED.clear()
    await SCHEMA.execute(document)
    whole = len(COMPLETED)
    assert whole == 4 * 20_000
    assert cut < whole / 4, (cut, whole)
