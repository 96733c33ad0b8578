"""The instant the running test started, by the server's clock: helpers that name days ("in two
days at 09:00") count from it rather than from each call's clock, so a test that runs across
midnight (the awkward-instant runs tick on from 23:59) names the same days from its first line
to its last. tests/conftest.py marks it before each test; a test that moves the clock itself
(time-machine) starts a new mark: a clock that left the real time's pace by more than a minute
is taken to have travelled.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from server import clock

TRAVEL = timedelta(minutes=1)
_mark: tuple[datetime, float] | None = None  # the clock then, and time.monotonic (not mocked)


def mark() -> None:
    global _mark
    _mark = (clock.now(), time.monotonic())


def started_at() -> datetime:
    now = clock.now()
    if _mark is not None:
        then, at = _mark
        if abs(now - (then + timedelta(seconds=time.monotonic() - at))) < TRAVEL:
            return then
    mark()
    return now
