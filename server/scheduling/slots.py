"""Free slots: generated candidates minus active appointments and holds (plus buffer), inside
the doctor's notice and horizon. Contract function next_available_slot (pages: slot_pages)."""

from __future__ import annotations

import asyncio
import uuid
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from server import clock
from server.errors import (
    UNKNOWN_VISIT_REASON,
    InvalidInput,
)
from server.scheduling.errors import (
    BAD_RANGE,
    RANGE_OVER_MAX,
    RANGE_TOO_LONG,
    TO_BEFORE_FROM,
    UNKNOWN_REASON,
)
from server.scheduling.grid import ONE_DAY, candidate_slots
from server.scheduling.model import (
    VISIT_TYPES,
    Availability,
    DateException,
    DoctorSettings,
    Slot,
    VisitReason,
    VisitType,
    WeeklyRule,
)
from server.scheduling.slot_days import Day, GridDays, Run, taken
from storage.scheduling import appointments as appointment_store
from storage.scheduling import availability as availability_store
from storage.scheduling.slots import slots_snapshot

# Bounds one computation: a month of slots is what a calendar page shows.
MAX_RANGE = timedelta(days=31)
# Busy periods are read this much beyond the range so long slots and buffers see their neighbours.
BUSY_MARGIN = timedelta(days=1)
_FIRST_LOOK = timedelta(days=2)
_NEXT_SLOT_STEP = timedelta(days=14)
_INSTANT = timedelta(microseconds=1)
_ALTERNATIVE_WINDOWS = (timedelta(hours=6), timedelta(days=2), MAX_RANGE / 2)


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _AvailabilityCache:
    """Availabilities by (doctor, rules stamp, zone, first exception day), least recently used
    dropped first. Safe on many nodes and databases: a stamp names one stored content (a new
    random one at every change, migration 0014), so an entry is never stale, only unused."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], Availability] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> Availability | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], availability: Availability) -> None:
        self._entries[key] = availability
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


_cache = _AvailabilityCache(4096)


async def load_availability(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor: asyncpg.Record,
    *,
    past_exceptions: bool = False,
    stamp: uuid.UUID | None = None,
) -> Availability:
    """The doctor's availability as domain types; exceptions that ended before yesterday only
    with `past_exceptions` (the editor shows them, slots never need them). With the `stamp` the
    caller just read (availability_versions.rules_stamp), a cached copy answers without a query;
    the result's `stamp` names what it holds (check it under the doctor's lock before relying)."""
    zone = zone_of(doctor["time_zone"])
    yesterday = clock.now().astimezone(zone).date() - timedelta(days=1)
    if stamp is not None and not past_exceptions:
        cached = _cache.get((doctor["id"], stamp, doctor["time_zone"], yesterday))
        if cached is not None:
            return cached
    stored = await availability_store.fetch_availability(
        con, doctor["id"], None if past_exceptions else yesterday
    )
    availability = Availability(
        doctor["id"],
        zone,
        tuple(WeeklyRule(**r) for r in stored.rules),
        tuple(DateException(**e) for e in stored.exceptions),
        tuple(VisitReason(**{**r, "visit_types": tuple(r["visit_types"])}) for r in stored.reasons),
        DoctorSettings(**stored.settings) if stored.settings else DoctorSettings(),
        stored.stamp,
    )
    if stored.stamp is not None and not past_exceptions:
        _cache.put((doctor["id"], stored.stamp, doctor["time_zone"], yesterday), availability)
    return availability


def without_busy(
    candidates: Sequence[Slot], busy: Sequence[tuple[datetime, datetime]], buffer: timedelta
) -> list[Slot]:
    """Candidates (in start order) that keep `buffer` away from every busy period."""
    starts, ends = [s.start for s in candidates], [s.end for s in candidates]
    longest = max((e - s for s, e in zip(starts, ends, strict=True)), default=timedelta(0))
    gone = taken(starts, ends, longest, busy, buffer)
    return [slot for i, slot in enumerate(candidates) if i not in gone]


def visit_types_for(
    visit_type: VisitType | None, reason: VisitReason | None
) -> tuple[VisitType, ...]:
    types = reason.visit_types if reason else VISIT_TYPES
    return tuple(t for t in types if visit_type is None or t == visit_type)


def _candidates(
    availability: Availability,
    start: datetime,
    end: datetime,
    now: datetime,
    visit_type: VisitType | None,
    reason: VisitReason | None,
    length_minutes: int | None,
) -> Run:
    """Grid slots starting in [start, end) clamped to the doctor's notice and horizon at `now`."""
    settings = availability.settings
    earliest = max(start, now + settings.notice)
    latest = min(end, now + settings.horizon)
    if latest <= earliest:
        return Run((), earliest, latest)
    length = length_minutes or (reason.duration_minutes if reason else None)
    types = visit_types_for(visit_type, reason)
    zone = availability.zone
    if availability.stamp is None:  # a proposal: nothing names it, nothing to remember
        found = candidate_slots(availability, earliest, latest, length, types)
        return Run((Day(found, zone),), earliest, latest)
    day, last = earliest.astimezone(zone).date(), latest.astimezone(zone).date()
    days = []
    while day <= last:
        days.append(_grid_days.day(availability, day, length, types))
        day += ONE_DAY
    return Run(days, earliest, latest)


# ~70 doctor-months of 15-minute slots, at most ~35 MB (a slot is ~350 bytes with its instants
# and its JSON).
_grid_days = GridDays(2048)


def slots_among(
    availability: Availability,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Sequence[tuple[datetime, datetime]],
    visit_type: VisitType | None = None,
    reason: VisitReason | None = None,
    length_minutes: int | None = None,
) -> Run:
    """Bookable slots starting in [start, end) given the busy periods from at least `BUSY_MARGIN`
    before `start` to `BUSY_MARGIN` after `end`; `length_minutes` (a moved visit's own length)
    overrides the reason's duration."""
    candidates = _candidates(availability, start, end, now, visit_type, reason, length_minutes)
    return candidates.without_busy(busy, availability.settings.buffer)


async def free_slots(
    con: asyncpg.Connection | asyncpg.Pool,
    availability: Availability,
    start: datetime,
    end: datetime,
    now: datetime,
    visit_type: VisitType | None = None,
    reason: VisitReason | None = None,
    exclude_id: uuid.UUID | None = None,
    length_minutes: int | None = None,
) -> list[Slot]:
    """slots_among with the busy periods read here; `exclude_id` ignores one appointment
    (moving)."""
    candidates = _candidates(availability, start, end, now, visit_type, reason, length_minutes)
    if not candidates.slots:
        return []
    busy = await appointment_store.busy_periods(
        con,
        availability.doctor_id,
        candidates.starts[0] - BUSY_MARGIN,
        max(candidates.ends) + BUSY_MARGIN,
        exclude_id,
    )
    return candidates.without_busy(busy, availability.settings.buffer).slots


def grid_slot(
    availability: Availability,
    start: datetime,
    visit_type: VisitType,
    reason: VisitReason | None,
    length_minutes: int | None = None,
) -> Slot | None:
    """The generated slot starting exactly at `start`, if the grid has one (from the
    remembered day when the availability is a stored one: a booking generates no grid)."""
    length = length_minutes or (reason.duration_minutes if reason else None)
    types = visit_types_for(visit_type, reason)
    if availability.stamp is None:
        found = candidate_slots(availability, start, start + _INSTANT, length, types)
        return found[0] if found else None
    day = _grid_days.day(availability, start.astimezone(availability.zone).date(), length, types)
    at = bisect_left(day.starts, start)
    return day.slots[at] if at < len(day.starts) and day.starts[at] == start else None


def own_minutes(appointment: asyncpg.Record) -> int:
    """An appointment's own length: it keeps it through every move, whatever its reason says."""
    return int((appointment["end_at"] - appointment["start_at"]).total_seconds() // 60)


def kept_reason(availability: Availability, appointment: asyncpg.Record) -> VisitReason | None:
    """The appointment's reason while the doctor still offers it (None once retired)."""
    reason_id = appointment["reason_id"]
    return availability.reason(reason_id) if reason_id else None


def render(slots: Sequence[Slot], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Slots as plain dicts in the doctor's zone: SlotsPage validates a month of them (~1,500)
    in pydantic's core far faster than building SlotOut objects one by one."""
    return [
        {
            "start": s.start.astimezone(zone),
            "end": s.end.astimezone(zone),
            "visit_type": s.visit_type,
        }
        for s in slots
    ]


def check_range(start: datetime, end: datetime) -> None:
    # In UTC: two datetimes of one zone compare and subtract by wall clock (31 local days
    # across a fall-back are 31 days and an hour), whatever zone a caller hands in.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise InvalidInput(BAD_RANGE, [TO_BEFORE_FROM.at("to", "query")])
    if end - start > MAX_RANGE:
        days = MAX_RANGE.days
        raise InvalidInput(
            RANGE_TOO_LONG, [RANGE_OVER_MAX.at("to", "query", days=days)], params={"days": days}
        )


def reason_or_error(
    availability: Availability,
    reason_id: uuid.UUID | None,
    field: str = "reason_id",
    location: str = "body",
) -> VisitReason | None:
    if reason_id is None:
        return None
    reason = availability.reason(reason_id)
    if reason is None:
        raise InvalidInput(UNKNOWN_REASON, [UNKNOWN_VISIT_REASON.at(field, location)])
    return reason


async def next_available_slot(
    pool: asyncpg.Pool,
    doctor_id: uuid.UUID,
    visit_type: str | None = None,
    *,
    now: datetime | None = None,
) -> datetime | None:
    """Start of the doctor's first free slot (None when none within the horizon or unknown).

    Search reindexes a doctor after each slot change: two statements usually (the doctor with
    the availability stamp, the busy periods), and a first look of two days only."""
    now = now or clock.now()
    async with pool.acquire() as con:
        doctor = await slots_snapshot(con, doctor_id, now, now)  # an empty range: no busy rows
        if doctor is None or doctor["verification_status"] != "verified":
            return None
        availability = await load_availability(con, doctor, stamp=doctor["rules_stamp"])
        start = now + availability.settings.notice
        horizon = now + availability.settings.horizon
        step = _FIRST_LOOK
        while start < horizon:
            end = min(start + step, horizon)
            step = _NEXT_SLOT_STEP
            found = await free_slots(
                con, availability, start, end, now, cast(VisitType | None, visit_type)
            )
            if found:
                return found[0].start.astimezone(availability.zone)
            start = end
    return None


async def nearest_free_slots(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor: asyncpg.Record,
    target: datetime,
    visit_type: VisitType,
    reason_id: uuid.UUID | None,
    exclude_id: uuid.UUID | None = None,
    count: int = 5,
    length_minutes: int | None = None,
    stamp: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Up to `count` free slots closest to `target` (the alternatives of a 409), as JSON;
    `stamp` as for load_availability.

    Runs on the caller's connection (after its transaction rolled back): taking a second pool
    connection per request could exhaust the pool under a booking rush. Given the pool, it
    takes a connection per statement, none while it waits for another's answer. Looks six
    hours around the target first, which nearly always suffices, then two days, then half a
    month. The losers
    of a rush for one slot ask the same question at once: the first computes, the others wait
    for its answer (computed after they lost, so as fresh as their own would be).
    """
    key = (doctor["id"], target, visit_type, reason_id, exclude_id, count, length_minutes)
    running = _alternatives_running.get(key)
    if running is not None:
        shared = await asyncio.shield(running)
        if shared is not None:
            return shared  # else the leader failed: compute our own
    answer: asyncio.Future[list[dict[str, Any]] | None] = asyncio.get_running_loop().create_future()
    _alternatives_running.setdefault(key, answer)
    found = None
    try:
        found = await _nearest_free_slots(
            con, doctor, target, visit_type, reason_id, exclude_id, count, length_minutes, stamp
        )
        return found
    finally:
        answer.set_result(found)
        if _alternatives_running.get(key) is answer:
            del _alternatives_running[key]


# The alternatives being computed, by question; None answers that the computation failed.
_alternatives_running: dict[tuple[object, ...], asyncio.Future[list[dict[str, Any]] | None]] = {}


async def _nearest_free_slots(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor: asyncpg.Record,
    target: datetime,
    visit_type: VisitType,
    reason_id: uuid.UUID | None,
    exclude_id: uuid.UUID | None,
    count: int,
    length_minutes: int | None,
    stamp: uuid.UUID | None,
) -> list[dict[str, Any]]:
    now = clock.now()
    availability = await load_availability(con, doctor, stamp=stamp)
    reason = availability.reason(reason_id) if reason_id else None
    slots: list[Slot] = []
    for window in _ALTERNATIVE_WINDOWS:
        slots = await free_slots(
            con,
            availability,
            target - window,
            target + window,
            now,
            visit_type,
            reason,
            exclude_id,
            length_minutes,
        )
        if len(slots) >= count:
            break
    slots.sort(key=lambda s: (abs(s.start - target), s.start))
    chosen = sorted(slots[:count])
    return [
        {**slot, "start": slot["start"].isoformat(), "end": slot["end"].isoformat()}
        for slot in render(chosen, availability.zone)
    ]
