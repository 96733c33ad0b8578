"""Rescheduling: one transaction takes the new time and frees the old one; races stay clean."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import (
    availability,
    booked,
    counts,
    doctor_with_availability,
    events_of,
    local,
    slot_starts,
)

URL = "/api/v1/appointments"


async def test_rescheduling_moves_the_appointment_and_releases_the_old_slot(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    old, new = local(doctor, 2, "10:00"), local(doctor, 2, "10:30")
    appointment = await booked(client, patient, doctor, old)
    await client.post(f"{URL}/{appointment['id']}/confirm", headers=doctor.user.headers)

    response = await client.post(
        f"{URL}/{appointment['id']}/reschedule",
        json={"start": new.isoformat(), "reason": "Train delayed"},
        headers=patient.user.headers,
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["start"] == new.isoformat() and moved["status"] == "scheduled"
    [event] = await events_of(db, "appointment.rescheduled")
    assert datetime.fromisoformat(event["previous_start"]) == old
    assert datetime.fromisoformat(event["start"]) == new
    assert event["reason"] == "Train delayed"
    [released] = await events_of(db, "slot.released")
    booked_events = await events_of(db, "slot.booked")
    assert released["availability_version"] == booked_events[-1]["availability_version"]
    # From `old`, not from "today" again: a run starting at 23:59 crosses midnight meanwhile.
    free = await slot_starts(client, doctor, old, old + timedelta(hours=1))
    assert free == [old]


async def test_two_reschedules_racing_into_one_slot_only_one_wins(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patients = [await make_patient(db, settings) for _ in range(10)]
    appointments = [
        await booked(client, p, doctor, local(doctor, 3, f"{9 + i:02d}:00"))
        for i, p in enumerate(patients)
    ]
    target = local(doctor, 4, "08:00")

    responses = await asyncio.gather(
        *(
            client.post(
                f"{URL}/{a['id']}/reschedule",
                json={"start": target.isoformat()},
                headers=p.user.headers,
            )
            for a, p in zip(appointments, patients, strict=True)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    assert all(
        r.json()["type"] == "/problems/slot-taken" for r in responses if r.status_code == 409
    )
    assert (
        await db.fetchval(
            "SELECT count(*) FROM scheduling.appointments WHERE lower(period) = $1", target
        )
        == 1
    )
    assert len(await events_of(db, "appointment.rescheduled")) == 1


async def test_refused_reschedules_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings, availability(horizon=10))
    patient, other = await make_patient(db, settings), await make_patient(db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, 2, "10:00"))
    await booked(client, other, doctor, local(doctor, 2, "11:00"))
    url = f"{URL}/{appointment['id']}/reschedule"
    before = await counts(db)
    cases = {
        "taken": (409, local(doctor, 2, "11:00").isoformat()),
        "off grid": (409, local(doctor, 2, "11:05").isoformat()),
        "same time": (422, local(doctor, 2, "10:00").isoformat()),
        "past": (422, local(doctor, -2, "10:00").isoformat()),
        "beyond horizon": (422, local(doctor, 30, "10:00").isoformat()),
        "malformed": (422, "tomorrow at ten"),
    }
    for name, (status, start) in cases.items():
        response = await client.post(url, json={"start": start}, headers=patient.user.headers)
        assert response.status_code == status, (name, response.text)
    stranger = await client.post(
        url, json={"start": local(doctor, 3, "10:00").isoformat()}, headers=other.user.headers
    )
    assert stranger.status_code == 404
    assert await counts(db) == before
