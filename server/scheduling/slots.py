"""Free slots: generated candidates minus active appointments and holds (plus buffer), inside
the doctor's notice and horizon. Contract functions list_available_slots / next_available_slot."""

from __future__ import annotations

import asyncio
import uuid
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from server import clock
from server.auth.principal import Principal
from server.errors import (
    NO_SUCH_APPOINTMENT,
    NO_SUCH_DOCTOR,
    UNKNOWN_VISIT_REASON,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from server.scheduling.access import require_party, resolve_caller
from server.scheduling.errors import (
    BAD_RANGE,
    RANGE_OVER_MAX,
    RANGE_TOO_LONG,
    SIGN_IN_TO_MOVE,
    TO_BEFORE_FROM,
    UNKNOWN_REASON,
    UNKNOWN_TYPE,
    UNKNOWN_VISIT_TYPE,
)
from server.scheduling.grid import ONE_DAY, candidate_slots, day_slots
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
from server.scheduling.schemas import SlotsPage
from storage.scheduling import appointments as appointment_store
from storage.scheduling import availability as availability_store
from storage.scheduling.slots import slots_snapshot

# Bounds one computation: a month of slots is what a calendar page shows.
MAX_RANGE = timedelta(days=31)
# Busy periods are read this much beyond the range so long slots and buffers see their neighbours.
_MARGIN = timedelta(days=1)
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
    """Candidates that keep `buffer` away from every busy period (busy sorted by start)."""
    starts = [b[0] for b in busy]
    # Largest end among the periods starting before index i: one bisect answers each candidate.
    max_ends = list(accumulate((b[1] for b in busy), max))
    free = []
    for slot in candidates:
        before = bisect_left(starts, slot.end + buffer)
        if before == 0 or max_ends[before - 1] + buffer <= slot.start:
            free.append(slot)
    return free


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
) -> list[Slot]:
    """Grid slots starting in [start, end) clamped to the doctor's notice and horizon at `now`."""
    settings = availability.settings
    earliest = max(start, now + settings.notice)
    latest = min(end, now + settings.horizon)
    if latest <= earliest:
        return []
    length = length_minutes or (reason.duration_minutes if reason else None)
    types = visit_types_for(visit_type, reason)
    if availability.stamp is None:  # a proposal: nothing names it, nothing to remember
        return candidate_slots(availability, earliest, latest, length, types)
    zone = availability.zone
    day, last = earliest.astimezone(zone).date(), latest.astimezone(zone).date()
    found: list[Slot] = []
    while day <= last:
        found += _grid_days.day(availability, day, length, types)
        day += ONE_DAY
    # Days are whole local days in order, so the range's slots are one run of them.
    first = bisect_left(found, earliest, key=_slot_start)
    return found[first : bisect_left(found, latest, lo=first, key=_slot_start)]


def _slot_start(slot: Slot) -> datetime:
    return slot.start


class _GridDays:
    """Grid slots of one local day (grid.day_slots) by (doctor, rules stamp, zone, day, length,
    visit types), least recently used dropped first: a month's page assembles ~30 remembered
    days instead of generating ~1,300 slots (two thirds of a page's CPU). Never stale, like
    _AvailabilityCache: the stamp names the stored content the grid comes from."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], list[Slot]] = OrderedDict()

    def day(
        self,
        availability: Availability,
        day: date,
        length: int | None,
        types: tuple[VisitType, ...],
    ) -> list[Slot]:
        key = (availability.doctor_id, availability.stamp, availability.zone.key, day, length,
               types)  # fmt: skip
        found = self._entries.get(key)
        if found is None:
            found = day_slots(availability, day, length, types)
            self._entries[key] = found
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return found


# ~70 doctor-months of 15-minute slots, at most ~20 MB (a slot is ~170 bytes with its instants).
_grid_days = _GridDays(2048)


def slots_among(
    availability: Availability,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Sequence[tuple[datetime, datetime]],
    visit_type: VisitType | None = None,
    reason: VisitReason | None = None,
    length_minutes: int | None = None,
) -> list[Slot]:
    """Bookable slots starting in [start, end) given the busy periods (sorted by start) from at
    least `_MARGIN` before `start` to `_MARGIN` after `end`; `length_minutes` (a moved visit's
    own length) overrides the reason's duration."""
    candidates = _candidates(availability, start, end, now, visit_type, reason, length_minutes)
    return without_busy(candidates, busy, availability.settings.buffer)


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
    if not candidates:
        return []
    busy = await appointment_store.busy_periods(
        con,
        availability.doctor_id,
        candidates[0].start - _MARGIN,
        candidates[-1].end + _MARGIN,
        exclude_id,
    )
    return without_busy(candidates, busy, availability.settings.buffer)


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
    at = bisect_left(day, start, key=_slot_start)
    return day[at] if at < len(day) and day[at].start == start else None


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


async def _moving(
    con: asyncpg.Connection,
    principal: Principal | None,
    doctor_id: uuid.UUID,
    appointment_id: uuid.UUID,
) -> asyncpg.Record:
    """The caller's own appointment with this doctor that the slots may overlap (a move's list);
    401 when not signed in, 404 when it is not the caller's (nothing about it leaks)."""
    if principal is None:
        raise Unauthenticated(SIGN_IN_TO_MOVE)
    row = await appointment_store.fetch_appointment(con, appointment_id)
    require_party(await resolve_caller(con, principal), row)
    assert row is not None
    if row["doctor_id"] != doctor_id:
        raise NotFound(NO_SUCH_APPOINTMENT)
    return row


async def list_available_slots(
    pool: asyncpg.Pool,
    doctor_id: uuid.UUID,
    start: datetime,
    end: datetime,
    visit_type: str | None = None,
    reason_id: uuid.UUID | None = None,
    *,
    now: datetime | None = None,
    principal: Principal | None = None,
    excluding_appointment_id: uuid.UUID | None = None,
) -> SlotsPage:
    """Free slots of a verified doctor; NotFound for unknown or unverified doctors.

    With `excluding_appointment_id` (one of the caller's appointments with this doctor) the
    slots are where it could move: its own time counts as free, and they take its own length
    and its reason's visit types (any type once the reason is retired).
    """
    check_range(start, end)
    if visit_type is not None and visit_type not in VISIT_TYPES:
        raise InvalidInput(UNKNOWN_VISIT_TYPE, [UNKNOWN_TYPE.at("type", "query")])
    now = now or clock.now()
    async with pool.acquire() as con:
        moving = None
        if excluding_appointment_id is not None:
            moving = await _moving(con, principal, doctor_id, excluding_appointment_id)
        # One statement: the version matches exactly the appointments the slots come from.
        snapshot = await slots_snapshot(
            con, doctor_id, start - _MARGIN, end + _MARGIN, excluding_appointment_id
        )
        if snapshot is None or snapshot["verification_status"] != "verified":
            raise NotFound(NO_SUCH_DOCTOR)
        availability = await load_availability(con, snapshot, stamp=snapshot["rules_stamp"])
        if availability.stamp != snapshot["rules_stamp"]:  # changed in between: agree again
            snapshot = await slots_snapshot(
                con, doctor_id, start - _MARGIN, end + _MARGIN, excluding_appointment_id
            )
            assert snapshot is not None
    reason = reason_or_error(availability, reason_id, "reason", "query")
    length = None
    if moving is not None:
        reason = reason or kept_reason(availability, moving)
        length = None if reason_id else own_minutes(moving)
    busy = list(zip(snapshot["busy_starts"], snapshot["busy_ends"], strict=True))
    slots = slots_among(availability, start, end, now, busy, visit_type, reason, length)
    return SlotsPage.model_validate(
        {
            "doctor_id": doctor_id,
            "time_zone": snapshot["time_zone"],
            "from": start,
            "to": end,
            "availability_version": snapshot["version"],
            "slots": render(slots, availability.zone),
        }
    )


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
