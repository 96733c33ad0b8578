"""The one clock: every "now" of the server comes from `now()`.

Domain rules, sweepers and the SQL that decides things (holds expiring, sessions expiring,
cut-offs, join windows) take the instant from here and pass it into their queries as a parameter
instead of calling PostgreSQL's `now()`, so one setting of the clock moves all of them together.
Tests set it with time-machine (`time_machine.travel(..., tick=True)`), which moves
`datetime.now()` and `time.time()` but leaves `time.monotonic()` (asyncio's timers) alone;
`MARKINI_TEST_NOW` sets it for a whole test run (see tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
