"""Progress lines on stderr, so that stdout carries the table alone."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """Print one progress line on stderr."""
    print(message, file=sys.stderr, flush=True)
