"""Time-ordered identifiers, so that keyset pagination by id follows creation order."""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last_millis = 0
_counter = 0


def _next_stamp() -> tuple[int, int]:
    """(milliseconds, 12-bit counter), strictly increasing within this process."""
    global _last_millis, _counter
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis > _last_millis:
            _last_millis = millis
            # Start low in a random place so ids of one millisecond still leave room to count.
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            _counter += 1
            if _counter > _COUNTER_MAX:
                _last_millis += 1
                _counter = 0
        return _last_millis, _counter


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562, method 1): 48-bit milliseconds, a 12-bit counter, 62 random bits."""
    millis, counter = _next_stamp()
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return UUID(int=value)
