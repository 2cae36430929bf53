"""DataLoaders: a page of 100 cases costs the same SQL statements as a page of 10."""

from __future__ import annotations

from casehub.api.execution import fast_path
from tests.conftest import GraphQL
from tests.security.gate_support import serving, with_settings
from tests.support import seed_cases

PAGE = """
query($first: Int!) {
  cases(first: $first, filter: {owned: true}) {
    edges { node {
      id title summary owner { code name }
      subjects { displayName identifiers { kind value } }
    } }
  }
}
"""


async def test_page_of_100_costs_the_same_statements_as_page_of_10(
    world, runtime, sql_counter, monkeypatch
):
    # The executor hands the event loop back every time slice (fast_path.SLICE), and a loader's
    # batch is sent at the next turn: an operation longer than a slice splits its batches there
    # by design (other requests run meanwhile). A slice longer than this test's pages keeps
    # batching alone under test, on a machine of any speed.
    monkeypatch.setattr(fast_path, "SLICE", 3600.0)
    agency = await world.agency()
    await seed_cases(runtime, agency.token, 100, "B")

    # 100 cases of up to 100 subjects of 10 identifiers cost 110,301, over the default limit
    # (60,000): this test is about batching, not limits.
    counts = {}
    async with serving(with_settings(runtime, max_query_cost=200_000)) as http:
        for first in (10, 100):
            sql_counter.statements.clear()
            sql_counter.active = True
            body = await GraphQL(http)(agency.token, PAGE, {"first": first})
            sql_counter.active = False
            edges = body["data"]["cases"]["edges"]
            assert len(edges) == first
            assert all(len(edge["node"]["subjects"][0]["identifiers"]) == 2 for edge in edges)
            assert all(edge["node"]["summary"].startswith("summary ") for edge in edges)
            counts[first] = len(sql_counter.statements)

    assert counts[10] == counts[100], sql_counter.statements
    # token, page, data-key wraps, agencies, subjects, identifiers, and the read audit: one
    # entry per object type read, all in one INSERT (no lock, no read of the log)
    assert counts[100] == 7, sql_counter.statements
