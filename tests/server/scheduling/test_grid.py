"""Slot generation in the doctor's zone, including the DST weeks of Paris and New York."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.scheduling import slots as slot_service
from server.scheduling.grid import candidate_slots, day_slots, local_instant
from server.scheduling.model import Availability, DateException, Slot, WeeklyRule
from server.scheduling.schemas import SlotsPage
from server.scheduling.slot_days import page_json
from server.scheduling.slots import without_busy

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
# (zone, spring-forward Sunday, fall-back Sunday) in 2026.
DST_SUNDAYS = [
    (PARIS, date(2026, 3, 29), date(2026, 10, 25)),
    (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1)),
]


def _every_day(zone: ZoneInfo, start: str, end: str, minutes: int = 30) -> Availability:
    rules = tuple(
        WeeklyRule(day, time.fromisoformat(start), time.fromisoformat(end), minutes, "in-person")
        for day in range(1, 8)
    )
    return Availability(uuid.uuid4(), zone, rules)


def _local_times(slots: list[Slot], zone: ZoneInfo) -> list[str]:
    return [s.start.astimezone(zone).strftime("%H:%M") for s in slots]


@pytest.mark.parametrize("zone,spring,fall", DST_SUNDAYS)
def test_a_morning_rule_gives_the_same_local_slots_in_dst_weeks(
    zone: ZoneInfo, spring: date, fall: date
) -> None:
    availability = _every_day(zone, "09:00", "12:00")
    usual = _local_times(day_slots(availability, spring - timedelta(days=7)), zone)
    assert usual == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    for sunday in (spring, fall):
        for day in (sunday - timedelta(days=1), sunday, sunday + timedelta(days=1)):
            slots = day_slots(availability, day)
            assert _local_times(slots, zone) == usual
            assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


@pytest.mark.parametrize("zone,spring,fall", DST_SUNDAYS)
def test_a_rule_across_the_spring_gap_skips_the_missing_hour(
    zone: ZoneInfo, spring: date, fall: date
) -> None:
    slots = day_slots(_every_day(zone, "01:00", "04:00"), spring)
    assert _local_times(slots, zone) == ["01:00", "01:30", "03:00", "03:30"]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


@pytest.mark.parametrize("zone,spring,fall", DST_SUNDAYS)
def test_a_rule_across_the_fall_back_offers_the_repeated_hour_once(
    zone: ZoneInfo, spring: date, fall: date
) -> None:
    slots = day_slots(_every_day(zone, "00:00", "04:00", 60), fall)
    assert _local_times(slots, zone) == ["00:00", "01:00", "02:00", "03:00"]
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert earlier.end <= later.start  # never two slots at once in real time


def test_local_instant_says_when_a_wall_clock_time_does_not_exist() -> None:
    assert local_instant(date(2026, 3, 29), time(2, 30), PARIS) is None
    assert local_instant(date(2026, 3, 29), time(3, 0), PARIS) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_time_off_removes_slots_and_extra_hours_add_them() -> None:
    monday = date(2026, 12, 7)
    base = _every_day(PARIS, "09:00", "11:00")
    availability = Availability(
        base.doctor_id,
        PARIS,
        base.rules,
        (
            DateException("time-off", monday, monday, time(9, 30), time(10, 30)),
            DateException("time-off", monday + timedelta(days=1), monday + timedelta(days=2)),
            DateException(
                "extra-hours", monday, monday, time(18, 0), time(19, 0), 20, "teleconsultation"
            ),
        ),
    )
    monday_slots = day_slots(availability, monday)
    assert _local_times(monday_slots, PARIS) == ["09:00", "10:30", "18:00", "18:20", "18:40"]
    assert monday_slots[-1].visit_type == "teleconsultation"
    assert day_slots(availability, monday + timedelta(days=1)) == []
    assert day_slots(availability, monday + timedelta(days=2)) == []
    assert len(day_slots(availability, monday + timedelta(days=3))) == 4


def test_a_reason_longer_than_the_grid_keeps_the_step_and_fits_the_window() -> None:
    availability = _every_day(PARIS, "09:00", "11:00", 20)
    slots = day_slots(availability, date(2026, 12, 7), length_minutes=60)
    assert _local_times(slots, PARIS) == ["09:00", "09:20", "09:40", "10:00"]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_candidates_are_limited_to_the_asked_range_and_types() -> None:
    availability = _every_day(NEW_YORK, "09:00", "12:00")
    start = datetime(2026, 12, 7, 10, 0, tzinfo=NEW_YORK)
    found = candidate_slots(availability, start, start + timedelta(days=1))
    assert found[0].start == start and found[-1].start < start + timedelta(days=1)
    assert (
        candidate_slots(availability, start, start + timedelta(days=1), None, ["teleconsultation"])
        == []
    )


def test_busy_periods_and_buffer_remove_neighbouring_slots() -> None:
    day = date(2026, 12, 7)
    slots = day_slots(_every_day(PARIS, "09:00", "12:00"), day)
    busy_start = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    busy = [(busy_start, busy_start + timedelta(minutes=30))]
    assert _local_times(without_busy(slots, busy, timedelta(0)), PARIS) == [
        "09:00",
        "09:30",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert _local_times(without_busy(slots, busy, timedelta(minutes=10)), PARIS) == [
        "09:00",
        "11:00",
        "11:30",
    ]


def test_window_edges_in_the_spring_gap_move_to_its_end_and_repeated_times_are_the_first() -> None:
    spring, fall = date(2027, 3, 28), date(2027, 10, 31)
    # Paris: 02:30 on the spring night means 03:00 CEST; on the fall night, 02:30 CEST.
    edge = day_slots(_every_day(PARIS, "02:30", "04:00"), spring)
    assert [s.start.astimezone(PARIS).isoformat()[11:] for s in edge] == [
        "03:00:00+02:00",
        "03:30:00+02:00",
    ]
    repeated = day_slots(_every_day(PARIS, "02:30", "03:00"), fall)
    assert [s.start.astimezone(PARIS).isoformat()[11:] for s in repeated] == ["02:30:00+02:00"]
    assert repeated[0].end - repeated[0].start == timedelta(minutes=30)


@pytest.mark.parametrize("zone,spring,fall", DST_SUNDAYS)
def test_pages_assembled_from_remembered_days_equal_the_grid_of_the_range(
    zone: ZoneInfo, spring: date, fall: date
) -> None:
    """server.scheduling.slots remembers each local day's grid under the rules stamp: any range
    (cut mid-day, across midnight windows and DST nights) gets exactly the range's grid."""
    rules = (
        WeeklyRule(1, time(22, 30), time(2, 0), 30, "in-person"),  # across midnight
        *(WeeklyRule(day, time(1, 0), time(4, 0), 20, "teleconsultation") for day in range(1, 8)),
        *(WeeklyRule(day, time(9, 0), time(12, 0), 15, "in-person") for day in range(1, 8)),
    )
    day_off = fall - timedelta(days=2)
    off = DateException("time-off", day_off, day_off, time(10), time(11))
    availability = Availability(uuid.uuid4(), zone, rules, (off,), stamp=uuid.uuid4())
    seen = 0
    for sunday in (spring, fall):
        base = datetime.combine(sunday - timedelta(days=3), time(10, 7), tzinfo=zone)
        for hours in (1, 17, 30, 24 * 6 + 5):
            start, end = base.astimezone(UTC), (base + timedelta(hours=hours)).astimezone(UTC)
            now = start - timedelta(days=1)  # notice and horizon leave the range whole
            for visit_type in (None, "in-person", "teleconsultation"):
                for _ in range(2):  # computed, then remembered
                    page = slot_service._candidates(
                        availability, start, end, now, visit_type, None, None
                    ).slots
                    types = slot_service.visit_types_for(visit_type, None)
                    assert page == candidate_slots(availability, start, end, None, types)
                    seen += len(page)
    assert seen > 1000


@pytest.mark.parametrize("buffer", [0, 10, 45])
def test_busy_periods_taken_from_remembered_days_leave_what_the_definition_leaves(
    buffer: int,
) -> None:
    """A page subtracts busy periods by bisecting around each one: the same slots (and the
    same JSON) as testing every slot against every period, for mixed lengths and any order."""
    rules = (
        *(WeeklyRule(day, time(8, 0), time(12, 0), 15, "in-person") for day in range(1, 8)),
        *(WeeklyRule(day, time(9, 0), time(11, 0), 40, "teleconsultation") for day in range(1, 8)),
    )
    availability = Availability(uuid.uuid4(), PARIS, rules, stamp=uuid.uuid4())
    start = datetime(2026, 12, 7, 9, 10, tzinfo=PARIS).astimezone(UTC)
    end, now = start + timedelta(days=5, hours=2), start - timedelta(days=1)
    candidates = slot_service._candidates(availability, start, end, now, None, None, None)
    rng = random.Random(7)
    busy = []
    for _ in range(40):
        begins = start + timedelta(minutes=rng.randrange(-600, 8000, 5))
        busy.append((begins, begins + timedelta(minutes=rng.choice((5, 15, 30, 90)))))
    margin = timedelta(minutes=buffer)
    free = candidates.without_busy(busy, margin)
    expected = [
        s
        for s in candidates.slots
        if all(not (b0 < s.end + margin and s.start < b1 + margin) for b0, b1 in busy)
    ]
    assert free.slots == expected and 0 < len(expected) < len(candidates.slots)
    page = SlotsPage.model_validate(
        {"doctor_id": availability.doctor_id, "time_zone": "Europe/Paris", "from": start,
         "to": end, "availability_version": 1, "slots": slot_service.render(expected, PARIS)}
    )  # fmt: skip
    empty = page.model_copy(update={"slots": []})
    assert page_json(empty, free.json()) == page.model_dump_json(by_alias=True).encode()
