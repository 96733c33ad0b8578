"""Candidate slots from weekly rules and date exceptions, in the doctor's zone (pure functions).

Slots are laid on the local wall clock, so a 09:00-12:00 rule gives 09:00, 09:30 ... on a DST
Sunday as on any other day. Around the transitions:
- spring forward: local starts that do not exist (02:00-02:59 in Paris) are skipped; a slot that
  starts before the gap lasts its real duration (it ends after the gap on the wall clock);
- fall back: repeated local times are offered once, at their first occurrence (fold=0), so two
  slots never overlap in real time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.scheduling.model import Availability, DateException, Slot, VisitType

ONE_DAY = timedelta(days=1)


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


def _lenient_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Like local_instant, but a time in a DST gap maps to the instant just after the gap."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _steady_offset(day: date, zone: ZoneInfo) -> timedelta | None:
    """The zone's UTC offset all day long, or None on a day with a DST transition."""
    begins = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
    ends = datetime.combine(day + ONE_DAY, time(0), tzinfo=zone).utcoffset()
    return begins if begins == ends else None


def _window_slots(
    day: date,
    start: time,
    end: time,
    step_minutes: int,
    length_minutes: int | None,
    visit_type: VisitType,
    location: str,
    zone: ZoneInfo,
) -> Iterator[Slot]:
    """Slots starting every `step` minutes whose wall-clock end stays inside the window."""
    step = timedelta(minutes=step_minutes)
    length = timedelta(minutes=length_minutes or step_minutes)
    cursor = datetime.combine(day, start)
    window_end = datetime.combine(day, end)
    offset = _steady_offset(day, zone)
    while cursor + length <= window_end:
        if offset is not None:  # most days: plain arithmetic, no zone lookup per slot
            begins: datetime | None = (cursor - offset).replace(tzinfo=UTC)
        else:
            begins = local_instant(cursor.date(), cursor.time(), zone)
        if begins is not None:
            yield Slot(begins, begins + length, visit_type, location)
        cursor += step


def _time_off(exceptions: Iterable[DateException], day: date, zone: ZoneInfo) -> list[Slot]:
    """The intervals of `day` the doctor took off (as Slots, only start/end matter)."""
    blocked = []
    for exc in exceptions:
        if exc.kind != "time-off" or not exc.covers(day):
            continue
        if exc.start is None or exc.end is None:
            begins = _lenient_instant(day, time(0), zone)
            ends = _lenient_instant(day + ONE_DAY, time(0), zone)
        else:
            begins = _lenient_instant(day, exc.start, zone)
            ends = _lenient_instant(day, exc.end, zone)
        blocked.append(Slot(begins, ends, "in-person"))
    return blocked


def _overlaps(slot: Slot, intervals: Iterable[Slot]) -> bool:
    return any(slot.start < other.end and other.start < slot.end for other in intervals)


def day_slots(
    availability: Availability,
    day: date,
    length_minutes: int | None = None,
    visit_types: Iterable[VisitType] | None = None,
) -> list[Slot]:
    """Rule slots minus time off, plus extra hours, for one local date.

    `length_minutes` (a visit reason's duration) keeps each window's step but makes every slot
    that long, so a 40-minute reason on a 20-minute grid takes two grid cells.
    """
    zone = availability.zone
    wanted = set(visit_types) if visit_types is not None else None
    found: dict[tuple[datetime, str], Slot] = {}
    blocked = _time_off(availability.exceptions, day, zone)
    for rule in availability.rules:
        if rule.day_of_week != day.isoweekday():
            continue
        if wanted is not None and rule.visit_type not in wanted:
            continue
        for slot in _window_slots(
            day,
            rule.start,
            rule.end,
            rule.slot_minutes,
            length_minutes,
            rule.visit_type,
            rule.location,
            zone,
        ):
            if not _overlaps(slot, blocked):
                found.setdefault((slot.start, slot.visit_type), slot)
    for exc in availability.exceptions:
        if exc.kind != "extra-hours" or not exc.covers(day):
            continue
        assert exc.start and exc.end and exc.slot_minutes and exc.visit_type  # schema guarantees
        if wanted is not None and exc.visit_type not in wanted:
            continue
        for slot in _window_slots(
            day,
            exc.start,
            exc.end,
            exc.slot_minutes,
            length_minutes,
            exc.visit_type,
            exc.location,
            zone,
        ):
            found.setdefault((slot.start, slot.visit_type), slot)
    return sorted(found.values())


def candidate_slots(
    availability: Availability,
    start: datetime,
    end: datetime,
    length_minutes: int | None = None,
    visit_types: Iterable[VisitType] | None = None,
) -> list[Slot]:
    """Every generated slot starting in [start, end), before appointments are taken away."""
    zone = availability.zone
    types = tuple(visit_types) if visit_types is not None else None
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    slots: list[Slot] = []
    while day <= last:
        slots.extend(
            s for s in day_slots(availability, day, length_minutes, types) if start <= s.start < end
        )
        day += ONE_DAY
    return slots
