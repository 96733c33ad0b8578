"""Opening hours that end at midnight or cross it, and local times a DST night skips or repeats
(issue #15, kinds 1 and 4). DST nights are fixed dates in 2027, reached with time-machine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import time_machine

from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.server.scheduling.helpers import (
    availability,
    booked,
    doctor_with_availability,
    every_day,
    local,
    on_day,
    put_availability,
    slot_starts,
)

SPRING_FORWARD, FALL_BACK = date(2027, 3, 28), date(2027, 10, 31)  # Sundays, Europe/Paris


def _url(doctor_id: object) -> str:
    return f"/api/v1/doctors/{doctor_id}/availability"


def _hours(starts: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in starts]


def _reason(minutes: int = 60) -> list[dict[str, Any]]:
    return [{"name": "Long", "duration_minutes": minutes, "visit_types": ["in-person"]}]


def _as_body(saved: dict[str, Any]) -> dict[str, Any]:
    """A GET answer as a PUT body: the same JSON without ids (rules get new ones) and version."""

    def without_id(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "id"}

    return {
        "rules": [without_id(r) for r in saved["rules"]],
        "exceptions": [without_id(e) for e in saved["exceptions"]],
        "reasons": saved["reasons"],
        "settings": saved["settings"],
    }


@pytest.fixture
def days_before_dst() -> Iterator[None]:
    """The clock a few days before the 2027 DST nights, so they are bookable and not past."""
    with time_machine.travel(datetime(2027, 3, 24, 12, 0, tzinfo=UTC), tick=True):
        yield


async def _night_starts(
    client: httpx.AsyncClient, doctor: Any, reason_id: str, days: int = 3
) -> list[str]:
    return _hours(
        await slot_starts(
            client,
            doctor,
            local(doctor, days, "21:00"),
            local(doctor, days + 1, "04:00"),
            reason=reason_id,
        )
    )


async def test_windows_that_reach_or_cross_midnight_give_one_night_opening(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    touching = every_day("22:30", "24:00") + every_day("00:00", "02:00")
    crossing = every_day("22:30", "02:00")
    ending_at_00 = every_day("22:30", "00:00") + every_day("00:00", "02:00")
    expected = ["22:30", "23:00", "23:30", "00:00", "00:30", "01:00"]
    for rules in (touching, crossing, ending_at_00):
        doctor = await make_doctor(db, settings)
        saved = await put_availability(client, doctor, availability(rules, reasons=_reason()))
        assert await _night_starts(client, doctor, saved["reasons"][0]["id"]) == expected

    # Not touching: the gap before midnight splits the night, no slot ends at 23:30 + 60 min.
    doctor = await make_doctor(db, settings)
    apart = every_day("22:30", "23:30") + every_day("00:00", "02:00")
    saved = await put_availability(client, doctor, availability(apart, reasons=_reason()))
    assert await _night_starts(client, doctor, saved["reasons"][0]["id"]) == [
        "22:30",
        "00:00",
        "00:30",
        "01:00",
    ]


async def test_a_visit_across_midnight_is_booked_whole(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(
        client, db, settings, availability(every_day("22:30", "02:00"), reasons=_reason())
    )
    reason_id = (await client.get(_url(doctor.id))).json()["reasons"][0]["id"]
    patient = await make_patient(db, settings)
    start = local(doctor, 3, "23:30")

    appointment = await booked(client, patient, doctor, start, reason_id=reason_id)

    assert datetime.fromisoformat(appointment["end"]) == local(doctor, 4, "00:30")
    assert await _night_starts(client, doctor, reason_id) == ["22:30", "00:30", "01:00"]


async def test_night_hours_round_trip_through_get_and_put(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    body = availability(
        [*every_day("22:30", "24:00")[:1], *every_day("00:00", "02:00")[1:2]],
        exceptions=[
            {
                "kind": "extra-hours",
                "start_date": "2027-01-08",
                "start": "21:00",
                "end": "03:00",
                "slot_minutes": 30,
                "visit_type": "teleconsultation",
            },
            {"kind": "time-off", "start_date": "2027-01-09", "start": "23:00", "end": "01:00"},
        ],
    )
    first = await put_availability(client, doctor, body)
    assert [(r["start"], r["end"]) for r in first["rules"]] == [
        ("22:30:00", "00:00:00"),
        ("00:00:00", "02:00:00"),
    ]
    assert [(e["start"], e["end"]) for e in first["exceptions"]] == [
        ("21:00:00", "03:00:00"),
        ("23:00:00", "01:00:00"),
    ]
    fetched = (await client.get(_url(doctor.id))).json()
    again = _as_body(fetched)

    second = await put_availability(client, doctor, again)

    assert _as_body(second) == again


async def test_extra_hours_and_time_off_may_cross_midnight(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    night = local(doctor, 3, "00:00").date()
    extra = {
        "kind": "extra-hours",
        "start_date": night.isoformat(),
        "start": "22:00",
        "end": "02:00",
        "slot_minutes": 60,
        "visit_type": "in-person",
    }
    time_off = {
        "kind": "time-off",
        "start_date": (night - timedelta(days=1)).isoformat(),
        "start": "23:00",
        "end": "09:00",
    }
    await put_availability(
        client, doctor, availability(every_day("08:00", "10:00"), exceptions=[extra, time_off])
    )

    starts = await slot_starts(
        client,
        doctor,
        on_day(doctor, night, "00:00"),
        on_day(doctor, night, "00:00") + timedelta(days=2),
    )

    # The previous night's time off reaches into this morning (08:00-09:00 gone); the extra hours
    # run past midnight into the next day, whose morning is open as usual.
    next_day = night + timedelta(days=1)
    assert starts == [
        *(on_day(doctor, night, at) for at in ("09:00", "09:30", "22:00", "23:00")),
        *(on_day(doctor, next_day, at) for at in ("00:00", "01:00", "08:00", "08:30", "09:00")),
        on_day(doctor, next_day, "09:30"),
    ]


async def test_night_hours_across_the_spring_forward_night(
    days_before_dst: None, client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    saturday_night = {**every_day("22:00", "06:00")[5]}  # Saturday into Sunday 28 March 2027
    doctor = await make_doctor(db, settings)
    saved = await put_availability(
        client, doctor, availability([saturday_night], reasons=_reason())
    )

    starts = await slot_starts(
        client,
        doctor,
        on_day(doctor, SPRING_FORWARD - timedelta(days=1), "12:00"),
        on_day(doctor, SPRING_FORWARD, "12:00"),
        reason=saved["reasons"][0]["id"],
    )

    # 02:00-02:59 does not exist; every visit lasts a real hour and ends by 06:00.
    assert [s.isoformat()[11:] for s in starts] == [
        *(f"{t}:00+01:00" for t in ("22:00", "22:30", "23:00", "23:30", "00:00", "00:30")),
        *(f"{t}:00+01:00" for t in ("01:00", "01:30")),
        *(f"{t}:00+02:00" for t in ("03:00", "03:30", "04:00", "04:30", "05:00")),
    ]
    assert all(
        later - earlier == timedelta(minutes=30)
        for earlier, later in zip(starts[:7], starts[1:8], strict=True)
    )


async def test_time_off_inside_the_spring_gap_removes_no_real_slot(
    days_before_dst: None, client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    sunday = {**every_day("01:00", "05:00")[6]}
    time_off = {
        "kind": "time-off",
        "start_date": SPRING_FORWARD.isoformat(),
        "start": "02:15",
        "end": "02:45",
    }
    doctor = await doctor_with_availability(
        client, db, settings, availability([sunday], exceptions=[time_off])
    )

    starts = await slot_starts(
        client,
        doctor,
        on_day(doctor, SPRING_FORWARD, "00:00"),
        on_day(doctor, SPRING_FORWARD, "12:00"),
    )

    # 02:15 and 02:45 both mean 03:00, the first instant after the gap: no real time is off.
    assert _hours(starts) == ["01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]


async def test_times_repeated_on_the_fall_back_night_mean_their_first_occurrence(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with time_machine.travel(datetime(2027, 10, 27, 12, 0, tzinfo=UTC), tick=True):
        sunday = {**every_day("01:00", "05:00")[6]}
        exceptions = [
            {
                "kind": "time-off",
                "start_date": FALL_BACK.isoformat(),
                "start": "02:15",
                "end": "02:45",
            },
        ]
        doctor = await doctor_with_availability(
            client, db, settings, availability([sunday], exceptions=exceptions)
        )

        starts = await slot_starts(
            client,
            doctor,
            on_day(doctor, FALL_BACK, "00:00"),
            on_day(doctor, FALL_BACK, "05:00"),
        )

    # 02:00 and 02:30 are the summer-time (first) ones; time off 02:15-02:45 overlaps both, and
    # the repeated winter-time hour is not offered again.
    assert [s.isoformat()[11:] for s in starts] == [
        "01:00:00+02:00",
        "01:30:00+02:00",
        "03:00:00+01:00",
        "03:30:00+01:00",
        "04:00:00+01:00",
        "04:30:00+01:00",
    ]
