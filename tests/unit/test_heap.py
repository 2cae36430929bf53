"""The serving process's collector policy (casehub.heap), in a process of its own: it freezes
what start-up built and raises the young generation's threshold, leaving the others."""

from __future__ import annotations

import json
import subprocess
import sys

from casehub.heap import GC_YOUNG_THRESHOLD

PROBE = """
import gc, json
import casehub.app  # what a server has built by then: modules, schema types, mappers
before = gc.get_threshold()
from casehub.heap import settle_heap
settle_heap()
print(json.dumps({"frozen": gc.get_freeze_count(), "before": before, "after": gc.get_threshold()}))
"""


def test_settle_heap_freezes_start_up_and_raises_the_young_threshold() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(result.stdout)
    assert seen["frozen"] > 10_000  # the imported modules' objects, at least
    assert seen["after"] == [GC_YOUNG_THRESHOLD, *seen["before"][1:]]
    assert seen["before"][0] < GC_YOUNG_THRESHOLD
