"""The garbage collector, tuned for a serving process (`casehub serve`, and the benchmark's
servers alike, so that casehub and its floor are measured under the same policy)."""

from __future__ import annotations

import gc

# The collector's first threshold (CPython's default is 700): a request allocates tens of
# thousands of short-lived containers, so the default ran a young collection every few
# hundred of them, and a full one every hundred young ones.
GC_YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Tune the garbage collector for serving, once the app is built, before the first request.

    The objects built at start (modules, the GraphQL schema, the mappers) live as long as the
    process; frozen, full collections stop walking them on every round (a quarter of the CPU of
    a cases page before). A server process calls this once; it is not for an embedded app."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
