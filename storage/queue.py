"""A doctor's day as a queue: the declared delay and the day's appointments in order."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg


async def declare_delay(
    con: asyncpg.Connection, doctor_id: uuid.UUID, minutes: int, on_day: date, now: datetime
) -> None:
    await con.execute(
        """INSERT INTO waitlist.running_late (doctor_id, minutes, on_day, set_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (doctor_id) DO UPDATE
               SET minutes = EXCLUDED.minutes, on_day = EXCLUDED.on_day,
                   set_at = EXCLUDED.set_at""",
        doctor_id,
        minutes,
        on_day,
        now,
    )


async def declared_delay(con: asyncpg.Connection, doctor_id: uuid.UUID, on_day: date) -> int:
    """Minutes the doctor said they run late on `on_day` (0 when nothing was said)."""
    minutes: int | None = await con.fetchval(
        "SELECT minutes FROM waitlist.running_late WHERE doctor_id = $1 AND on_day = $2",
        doctor_id,
        on_day,
    )
    return minutes or 0


async def day_appointments(
    con: asyncpg.Connection, doctor_id: uuid.UUID, day_start: datetime, day_end: datetime
) -> list[asyncpg.Record]:
    """The doctor's booked (scheduled, confirmed) appointments starting in [day_start, day_end),
    by start: `id`, `start_at`, `end_at`, `acting_user_ids` (who acts for the patient, as
    scheduling.appointment_details says: their own login and every active proxy; empty when
    nobody does, e.g. an erased relative)."""
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT id, start_at, end_at, acting_user_ids FROM scheduling.appointment_details
           WHERE doctor_id = $1 AND status IN ('scheduled', 'confirmed')
             AND start_at >= $2 AND start_at < $3
           ORDER BY start_at""",
        doctor_id,
        day_start,
        day_end,
    )
    return rows


async def doctor_zone(con: asyncpg.Connection, doctor_id: uuid.UUID) -> str | None:
    zone: str | None = await con.fetchval(
        "SELECT time_zone FROM doctors.doctors WHERE id = $1", doctor_id
    )
    return zone
