"""The text of a moment in signed statements: UTC, whole seconds, 'Z' (2026-12-05T10:00:00Z).

One fixed width and format, so that two instants compare in time order as strings do and the
same moment always has the same bytes under a signature."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# [0-9], not \d: \d matches every Unicode digit.
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def format_instant(moment: datetime) -> str:
    """A timezone-aware moment as statement text, its fraction of a second dropped."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("A statement instant needs a timezone-aware datetime.")
    # isoformat, not strftime: strftime's %Y does not pad years before 1000 to four digits.
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_instant(text: object) -> datetime | None:
    """The UTC moment of a statement instant, or None for anything not written exactly so."""
    if not isinstance(text, str) or not _INSTANT.fullmatch(text):
        return None
    try:
        # The pattern above fixed the form; fromisoformat (Python 3.11 reads the "Z") is a
        # tenth of strptime's cost, and statements carry several instants each.
        return datetime.fromisoformat(text)
    except ValueError:  # a day or hour that does not exist
        return None
