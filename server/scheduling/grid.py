"""Candidate slots from weekly rules and date exceptions, in the doctor's zone (pure functions).

Windows. A rule or an exception gives a window of local wall-clock times on the day it starts
on. An end at or before the start crosses midnight: the window ends on the next day (so an end
of 00:00, also written 24:00, is midnight at the end of the day, and 22:30-02:00 on Monday runs
into Tuesday morning). Windows of one visit type that touch or overlap (Monday 22:30-24:00 and
Tuesday 00:00-02:00) are one opening: a long visit may start in one and end in the next.

Slots. Each window's slots start every `slot_minutes` from its start, on the wall clock, and
must end (in real time) inside the opening. Time off removes the rule slots it overlaps; extra
hours add slots even on a day off.

Local times around DST transitions, one meaning everywhere (rules, exceptions, slots):
- a local time that does not exist (spring forward, 02:00-02:59 in Paris) means the first
  instant after the gap (03:00), so a window edge inside the gap moves to the gap's end and time
  off 02:15-02:45 covers no real time; a slot start inside the gap is not offered;
- a local time that exists twice (fall back, 02:00-02:59 in Paris) means its first occurrence
  (the summer-time one, fold=0), so repeated slots are offered once and never overlap, and time
  off 02:00-03:00 covers both occurrences (it ends at the one 03:00).
API requests carry a UTC offset (ISO 8601), so they name one instant and need no such rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.scheduling.model import Availability, Slot, VisitType

ONE_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None when it does not exist (DST gap).

    Instants stay in UTC inside the domain: Python compares and subtracts two datetimes that
    share a tzinfo by wall clock, ignoring `fold`, which is wrong across a fall-back night.
    """
    candidate = datetime.combine(day, at, tzinfo=zone)
    instant = candidate.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return instant


def wall_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant a naive local time means (see the module docstring): its first
    occurrence, or the first instant after the gap when it does not exist."""
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap: fold=1 reads it with the offset after the gap, an instant before the gap.
    before, after = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), instant
    while after - before > _SECOND:  # transitions fall on whole seconds
        middle = before + (after - before) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < wall:
            before = middle
        else:
            after = middle
    return after


def wall_span(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The naive local start and end of a window on `day`; an end at or before the start is
    on the next day."""
    begins, ends = datetime.combine(day, start), datetime.combine(day, end)
    return begins, ends if ends > begins else ends + ONE_DAY


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime  # UTC
    end: datetime  # UTC
    wall_start: datetime  # naive local
    wall_end: datetime
    step: timedelta
    visit_type: VisitType
    location: str
    extra: bool  # extra hours: time off does not remove their slots


def _window(
    zone: ZoneInfo,
    day: date,
    times: tuple[time, time],
    slot_minutes: int,
    visit_type: VisitType,
    location: str,
    *,
    extra: bool,
) -> _Window:
    wall_start, wall_end = wall_span(day, *times)
    return _Window(
        wall_instant(wall_start, zone),
        wall_instant(wall_end, zone),
        wall_start,
        wall_end,
        timedelta(minutes=slot_minutes),
        visit_type,
        location,
        extra,
    )


def _windows(
    availability: Availability, first: date, last: date, wanted: set[VisitType] | None
) -> list[_Window]:
    """Rule windows, then extra-hours windows, starting on the days first..last."""
    zone = availability.zone
    rules, extras = [], []
    day = first
    while day <= last:
        for rule in availability.rules:
            if rule.day_of_week == day.isoweekday() and (
                wanted is None or rule.visit_type in wanted
            ):
                times = (rule.start, rule.end)
                kind = (rule.slot_minutes, rule.visit_type, rule.location)
                rules.append(_window(zone, day, times, *kind, extra=False))
        for exc in availability.exceptions:
            if exc.kind != "extra-hours" or not exc.covers(day):
                continue
            assert exc.start and exc.end and exc.slot_minutes and exc.visit_type  # schema
            if wanted is None or exc.visit_type in wanted:
                times = (exc.start, exc.end)
                kind = (exc.slot_minutes, exc.visit_type, exc.location)
                extras.append(_window(zone, day, times, *kind, extra=True))
        day += ONE_DAY
    return rules + extras


def _time_off(
    availability: Availability, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """The real intervals the doctor took off on the days first..last."""
    zone = availability.zone
    blocked = []
    day = first
    while day <= last:
        for exc in availability.exceptions:
            if exc.kind != "time-off" or not exc.covers(day):
                continue
            if exc.start is None or exc.end is None:
                span = datetime.combine(day, time(0)), datetime.combine(day + ONE_DAY, time(0))
            else:
                span = wall_span(day, exc.start, exc.end)
            blocked.append((wall_instant(span[0], zone), wall_instant(span[1], zone)))
        day += ONE_DAY
    return blocked


def _openings(windows: list[_Window]) -> dict[_Window, datetime]:
    """Each window's opening end: the end of the run of touching windows of its visit type."""
    reach: dict[_Window, datetime] = {}
    run: list[_Window] = []
    run_end = datetime.min.replace(tzinfo=UTC)
    for window in sorted(windows, key=lambda w: (w.visit_type, w.start)):
        if run and (window.visit_type != run[0].visit_type or window.start > run_end):
            reach.update((w, run_end) for w in run)
            run = []
        run_end = max(run_end, window.end) if run else window.end
        run.append(window)
    reach.update((w, run_end) for w in run)
    return reach


def _starts(window: _Window, zone: ZoneInfo) -> Iterator[datetime]:
    """The UTC starts of a window's grid, skipping local times that do not exist."""
    cursor = window.wall_start
    first = window.start.astimezone(zone)
    offset = first.utcoffset()
    # One offset from the window's start to its end, and a start that exists (not in a gap).
    steady = (
        offset is not None
        and offset == window.end.astimezone(zone).utcoffset()
        and first.replace(tzinfo=None) == window.wall_start
    )
    if steady:  # most windows: plain arithmetic in UTC, no zone lookup per slot
        instant = window.start
        while instant < window.end:
            yield instant
            instant += window.step
        return
    while cursor < window.wall_end:
        begins = local_instant(cursor.date(), cursor.time(), zone)
        if begins is not None:
            yield begins
        cursor += window.step


def _overlaps(
    start: datetime, end: datetime, intervals: Iterable[tuple[datetime, datetime]]
) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in intervals)


def candidate_slots(
    availability: Availability,
    start: datetime,
    end: datetime,
    length_minutes: int | None = None,
    visit_types: Iterable[VisitType] | None = None,
) -> list[Slot]:
    """Every generated slot starting in [start, end), before appointments are taken away.

    `length_minutes` (a visit's duration) keeps each window's step but makes every slot that
    long, so a 40-minute reason on a 20-minute grid takes two grid cells.
    """
    zone = availability.zone
    wanted = set(visit_types) if visit_types is not None else None
    # A window of the day before may cross midnight into the range.
    first = start.astimezone(zone).date() - ONE_DAY
    last = end.astimezone(zone).date()
    windows = _windows(availability, first, last, wanted)
    reach = _openings(windows)
    blocked = _time_off(availability, first - ONE_DAY, last + ONE_DAY)
    found: dict[tuple[datetime, str], Slot] = {}
    for window in windows:
        if window.end <= start or window.start >= end:
            continue
        length = timedelta(minutes=length_minutes) if length_minutes else window.step
        opening_end = reach[window]
        # The time off this window's slots can meet (usually none).
        near = [] if window.extra else _within(blocked, window.start, opening_end)
        for begins in _starts(window, zone):
            ends = begins + length
            if begins < start or begins >= end or ends > opening_end:
                continue
            if near and _overlaps(begins, ends, near):
                continue
            key = (begins, window.visit_type)
            if key not in found:
                found[key] = Slot(begins, ends, window.visit_type, window.location)
    # Sorted like Slot's own order, by a key: a month of slots compares in C, not in __lt__.
    return sorted(found.values(), key=_slot_order)


def _slot_order(slot: Slot) -> tuple[datetime, datetime, str]:
    return slot.start, slot.end, slot.visit_type


def _within(
    intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    return [(s, e) for s, e in intervals if s < end and start < e]


def day_slots(
    availability: Availability,
    day: date,
    length_minutes: int | None = None,
    visit_types: Iterable[VisitType] | None = None,
) -> list[Slot]:
    """The slots starting on one local date (a window of the day before may give some)."""
    zone = availability.zone
    begins = wall_instant(datetime.combine(day, time(0)), zone)
    ends = wall_instant(datetime.combine(day + ONE_DAY, time(0)), zone)
    return candidate_slots(availability, begins, ends, length_minutes, visit_types)
