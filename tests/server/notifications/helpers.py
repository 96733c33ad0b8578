"""Shared helpers of the notification tests: waiting on stored rows, appointments made in SQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import Doctor, Patient, make_patient
from tests.server.scheduling.helpers import booked, doctor_with_availability, local

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll `probe` every 50 ms until `ok` holds of its value (fails after `timeout`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.05)


async def insert_appointment(
    db: asyncpg.Connection | asyncpg.Pool,
    doctor: Doctor,
    patient: Patient,
    start: datetime,
    status: str = "scheduled",
    length: timedelta = timedelta(minutes=30),
    reason_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """An appointment (of visit reason `reason_id`) made behind the scheduling API's back (setup
    of worker tests)."""
    appointment_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduling.appointments (id, doctor_id, patient_id, period, visit_type,
                                                status, fee, currency, reason_id)
           VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), 'in-person', $6, 3000, 'EUR', $7)""",
        appointment_id,
        doctor.id,
        patient.id,
        start,
        start + length,
        status,
        reason_id,
    )
    return appointment_id


async def message_rows(db: asyncpg.Connection, **where: object) -> list[asyncpg.Record]:
    clauses = " AND ".join(f"{k} = ${i}" for i, k in enumerate(where, 1)) or "true"
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT * FROM notify.messages WHERE {clauses} ORDER BY created_at, id", *where.values()
    )
    return rows


@dataclass
class Booking:
    doctor: Doctor
    patient: Patient
    appointment: dict[str, Any]  # the API's answer
    start: datetime


async def booking(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    days: int = 3,
    at: str = "10:00",
) -> Booking:
    """A doctor with open hours and a new patient who booked `days` ahead at `at` (their zone)."""
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    start = local(doctor, days, at)
    return Booking(doctor, patient, await booked(client, patient, doctor, start), start)
