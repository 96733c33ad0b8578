"""Remembered local days of slot grid, with their starts, ends and JSON side by side, and the
cheap subtraction of busy periods from a run of them (what a free-slots page is made of)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from server.scheduling.grid import day_slots
from server.scheduling.model import Availability, Slot, VisitType
from server.scheduling.schemas import SlotOut, SlotsPage

_NOTHING = timedelta(0)
_T = TypeVar("_T")


class Day:
    """Grid slots in start order, their starts and ends (for bisect) and the longest; their
    JSON in the doctor's zone is made once, the first time a page needs it."""

    __slots__ = ("slots", "starts", "ends", "longest", "zone", "_json")

    def __init__(self, slots: list[Slot], zone: ZoneInfo) -> None:
        self.slots = slots
        self.starts = [s.start for s in slots]
        self.ends = [s.end for s in slots]
        self.longest = max((s.end - s.start for s in slots), default=_NOTHING)
        self.zone = zone
        self._json: list[bytes] | None = None

    def json(self) -> list[bytes]:
        """Each slot as SlotsPage serialises it (the response's schema, built once per day)."""
        if self._json is None:
            to_json = SlotOut.__pydantic_serializer__.to_json
            self._json = [
                to_json(SlotOut(start=s.start.astimezone(self.zone),
                                end=s.end.astimezone(self.zone), visit_type=s.visit_type))
                for s in self.slots
            ]  # fmt: skip
        return self._json


class Run:
    """The slots of consecutive days starting in [earliest, latest), busy ones taken out: picks
    from the days' lists, copied out only when asked for."""

    __slots__ = ("longest", "_days", "_slots", "_starts", "_ends", "_picked")

    def __init__(self, days: Sequence[Day], earliest: datetime, latest: datetime) -> None:
        self._slots: list[Slot] = []
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        for day in days:
            self._slots += day.slots
            self._starts += day.starts
            self._ends += day.ends
        # Days are whole local days in order, so the range's slots are one run of them.
        first = bisect_left(self._starts, earliest)
        self._picked: range | list[int] = range(first, bisect_left(self._starts, latest, lo=first))
        self.longest = max((d.longest for d in days), default=_NOTHING)
        self._days = days

    @property
    def slots(self) -> list[Slot]:
        return _pick(self._slots, self._picked)

    @property
    def starts(self) -> list[datetime]:
        return _pick(self._starts, self._picked)

    @property
    def ends(self) -> list[datetime]:
        return _pick(self._ends, self._picked)

    def without_busy(self, busy: Sequence[tuple[datetime, datetime]], buffer: timedelta) -> Run:
        """This run less the slots within `buffer` of a busy period."""
        gone = taken(self._starts, self._ends, self.longest, busy, buffer)
        if gone.isdisjoint(self._picked):
            return self
        free = object.__new__(Run)
        free.longest, free._days = self.longest, self._days
        free._slots, free._starts, free._ends = self._slots, self._starts, self._ends
        free._picked = [i for i in self._picked if i not in gone]
        return free

    def json(self) -> list[bytes]:
        """The slots as SlotsPage serialises them (made once per remembered day)."""
        every: list[bytes] = []
        for day in self._days:
            every += day.json()
        return _pick(every, self._picked)


def _pick(items: list[_T], picked: range | list[int]) -> list[_T]:
    if isinstance(picked, range):
        return items[picked.start : picked.stop]
    return [items[i] for i in picked]


def taken(
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    longest: timedelta,
    busy: Sequence[tuple[datetime, datetime]],
    buffer: timedelta,
) -> set[int]:
    """Indices of the slots (`starts` ascending, none longer than `longest`) that come within
    `buffer` of a busy period: a few bisects per busy period, not a test per slot."""
    gone: set[int] = set()
    reach = longest + buffer
    for busy_start, busy_end in busy:
        # Only slots starting after busy_start - reach can end after busy_start - buffer.
        first = bisect_right(starts, busy_start - reach)
        last = bisect_left(starts, busy_end + buffer, lo=first)
        near = busy_start - buffer
        for i in range(first, last):
            if ends[i] > near:
                gone.add(i)
    return gone


def page_json(page: SlotsPage, slots: list[bytes]) -> bytes:
    """`page` (given without slots) as JSON with these slots: the same bytes as serialising it
    with them, without building a model per slot."""
    head, tail = page.__pydantic_serializer__.to_json(page, by_alias=True).split(b'"slots":[]', 1)
    return b"".join((head, b'"slots":[', b",".join(slots), b"]", tail))


class GridDays:
    """Days (grid.day_slots) by (doctor, rules stamp, zone, day, length, visit types), least
    recently used dropped first: a month's page assembles ~30 remembered days instead of
    generating ~1,300 slots and their JSON. Never stale: the stamp names the stored content
    the grid comes from (a new random one at every change, migration 0014)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], Day] = OrderedDict()

    def day(
        self,
        availability: Availability,
        day: date,
        length: int | None,
        types: tuple[VisitType, ...],
    ) -> Day:
        key = (availability.doctor_id, availability.stamp, availability.zone.key, day, length,
               types)  # fmt: skip
        found = self._entries.get(key)
        if found is None:
            found = Day(day_slots(availability, day, length, types), availability.zone)
            self._entries[key] = found
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return found
