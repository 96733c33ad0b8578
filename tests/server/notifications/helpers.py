"""Shared helpers of the notification tests: waiting on stored rows, appointments made in SQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg

from tests.factories import Doctor, Patient

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
) -> uuid.UUID:
    """An appointment made behind the scheduling API's back (setup of worker tests)."""
    appointment_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduling.appointments (id, doctor_id, patient_id, period, visit_type,
                                                status, fee, currency)
           VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), 'in-person', $6, 3000, 'EUR')""",
        appointment_id,
        doctor.id,
        patient.id,
        start,
        start + length,
        status,
    )
    return appointment_id


async def message_rows(db: asyncpg.Connection, **where: object) -> list[asyncpg.Record]:
    clauses = " AND ".join(f"{k} = ${i}" for i, k in enumerate(where, 1)) or "true"
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT * FROM notify.messages WHERE {clauses} ORDER BY created_at, id", *where.values()
    )
    return rows
