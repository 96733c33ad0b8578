"""Shared set-up for scheduling tests: availability bodies, grid times, bookings, row counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests import started
from tests.factories import Doctor, Patient, User, make_doctor

SLOTS_URL = "/api/v1/appointments/slots/available"


def every_day(
    start: str = "08:00",
    end: str = "20:00",
    slot_minutes: int = 30,
    visit_type: str = "in-person",
) -> list[dict[str, Any]]:
    return [
        {
            "day_of_week": day,
            "start": start,
            "end": end,
            "slot_minutes": slot_minutes,
            "visit_type": visit_type,
            "location": "Cabinet",
        }
        for day in range(1, 8)
    ]


def availability(
    rules: list[dict[str, Any]] | None = None,
    *,
    notice: int = 0,
    horizon: int = 84,
    buffer: int = 0,
    reasons: list[dict[str, Any]] | None = None,
    exceptions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "rules": every_day() if rules is None else rules,
        "exceptions": exceptions or [],
        "reasons": reasons or [],
        "settings": {
            "min_notice_minutes": notice,
            "max_horizon_days": horizon,
            "buffer_minutes": buffer,
        },
    }


async def put_availability(
    client: httpx.AsyncClient, doctor: Doctor, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}/availability",
        json=body or availability(),
        headers=doctor.user.headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def doctor_with_availability(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    body: dict[str, Any] | None = None,
    **fields: Any,
) -> Doctor:
    """A verified doctor (`fields`: see make_doctor) who published `body` (availability())."""
    doctor = await make_doctor(db, settings, **fields)
    await put_availability(client, doctor, body)
    return doctor


def local(doctor: Doctor, days_ahead: int, at: str) -> datetime:
    """A wall-clock time `days_ahead` days from the test's first day in the doctor's zone (the
    day it started: tests/started.py)."""
    zone = ZoneInfo(doctor.time_zone)
    day = started.started_at().astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time.fromisoformat(at), tzinfo=zone)


def on_day(doctor: Doctor, day: date, at: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(at), tzinfo=ZoneInfo(doctor.time_zone))


async def book(
    client: httpx.AsyncClient,
    who: Patient | User,
    doctor: Doctor,
    start: datetime,
    visit_type: str = "in-person",
    **extra: Any,
) -> httpx.Response:
    user = who.user if isinstance(who, Patient) else who
    return await client.post(
        "/api/v1/appointments",
        json={
            "doctor_id": str(doctor.id),
            "start": start.isoformat(),
            "visit_type": visit_type,
            **extra,
        },
        headers=user.headers,
    )


async def booked(
    client: httpx.AsyncClient, patient: Patient, doctor: Doctor, start: datetime, **extra: Any
) -> dict[str, Any]:
    response = await book(client, patient, doctor, start, **extra)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def slots(
    client: httpx.AsyncClient,
    doctor: Doctor,
    start: datetime,
    end: datetime,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    query = {"doctor_id": str(doctor.id), "from": start.isoformat(), "to": end.isoformat()}
    return await client.get(SLOTS_URL, params={**query, **params}, headers=headers)


async def slot_starts(
    client: httpx.AsyncClient, doctor: Doctor, start: datetime, end: datetime, **params: Any
) -> list[datetime]:
    response = await slots(client, doctor, start, end, **params)
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(s["start"]) for s in response.json()["slots"]]


async def counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    """(appointments, outbox events, summed availability versions): what a failure must not move."""
    row = await db.fetchrow(
        """SELECT (SELECT count(*) FROM scheduling.appointments) AS a,
                  (SELECT count(*) FROM bus.outbox) AS o,
                  (SELECT coalesce(sum(version), 0) FROM scheduling.availability_versions) AS v"""
    )
    assert row is not None
    return int(row["a"]), int(row["o"]), int(row["v"])


async def events_of(db: asyncpg.Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT subject, data FROM bus.outbox WHERE type = $1 ORDER BY seq", event_type
    )
    return [{"subject": r["subject"], **r["data"]} for r in rows]


async def move_into_past(db: asyncpg.Connection, appointment_id: str, hours: int = 2) -> None:
    """Shift an appointment so it started `hours` ago (completion needs a started visit)."""
    await move_to(db, appointment_id, clock.now() - timedelta(hours=hours))


async def move_to(db: asyncpg.Connection, appointment_id: str, start: datetime) -> None:
    """Put the appointment at `start`, keeping its length, behind the API's back (tests need it
    within a cut-off or a joining window of the clock's now, which no booking may choose)."""
    await db.execute(
        """UPDATE scheduling.appointments
           SET period = tstzrange($2::timestamptz,
                                  $2::timestamptz + (upper(period) - lower(period)), '[)')
           WHERE id = $1""",
        uuid.UUID(appointment_id),
        start,
    )
