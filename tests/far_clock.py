"""The one clock set far from the database's: what a code path stores as "now" must be this
instant exactly, never PostgreSQL's now() (ARCHITECTURE.md, "One clock")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import time_machine

# Decades away from any real clock, with microseconds, so no database default can match it.
FAR = datetime(2061, 7, 14, 9, 30, 15, 250_000, tzinfo=UTC)


@contextmanager
def far_clock() -> Iterator[datetime]:
    """The app clock stands still at FAR (asyncio's monotonic timers keep running)."""
    with time_machine.travel(FAR, tick=False):
        yield FAR
