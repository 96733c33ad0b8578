"""Availability edits, bookings and their transitions store the app clock's instant."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest
import time_machine

from server.settings import Settings
from tests.factories import make_patient
from tests.far_clock import far_clock
from tests.server.scheduling.helpers import (
    availability,
    booked,
    doctor_with_availability,
    local,
    put_availability,
)

pytestmark = pytest.mark.any_hour

URL = "/api/v1/appointments"


async def test_archived_reasons_settings_and_bookings_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    reason = {"name": "Suivi", "duration_minutes": 30, "visit_types": ["in-person"]}
    with far_clock() as now:
        doctor = await doctor_with_availability(
            client, db, settings, availability(reasons=[reason])
        )
        await put_availability(client, doctor, availability())  # the reason is retired
        patient = await make_patient(db, settings)
        appointment = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
        moved = await client.post(
            f"{URL}/{appointment['id']}/reschedule",
            json={"start": local(doctor, 4, "10:00").isoformat()},
            headers=patient.user.headers,
        )
        assert moved.status_code == 200, moved.text
        cancelled = await client.post(
            f"{URL}/{appointment['id']}/cancel", headers=patient.user.headers
        )
        assert cancelled.status_code == 200, cancelled.text
    assert await db.fetchval("SELECT archived_at FROM scheduling.visit_reasons") == now
    assert await db.fetchval("SELECT updated_at FROM scheduling.doctor_settings") == now
    row = await db.fetchrow(
        "SELECT created_at, updated_at, cancelled_at FROM scheduling.appointments"
    )
    assert (row["created_at"], row["updated_at"], row["cancelled_at"]) == (now, now, now)


async def test_a_detail_change_is_stamped_by_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        doctor = await doctor_with_availability(client, db, settings)
        patient = await make_patient(db, settings)
        appointment = await booked(client, patient, doctor, local(doctor, 2, "09:00"))
    later = now + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):  # the change has its own instant
        changed = await client.put(
            f"{URL}/{appointment['id']}", json={"notes": "allergies"}, headers=patient.user.headers
        )
        assert changed.status_code == 200, changed.text
    row = await db.fetchrow("SELECT created_at, updated_at FROM scheduling.appointments")
    assert (row["created_at"], row["updated_at"]) == (now, later)
