"""Appointment reminders: scheduled as rows, claimed with FOR UPDATE SKIP LOCKED when due."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.notify import Db


@dataclass(frozen=True)
class DueReminder:
    appointment_id: uuid.UUID
    offset_minutes: int
    due_at: datetime
    starts_at: datetime
    # A reminder with a smaller offset of the same appointment is due too (after a downtime).
    superseded: bool


async def schedule(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    due: Sequence[tuple[int, datetime]],
) -> None:
    """(Re)plan the appointment's reminders: pending at each (offset, due_at), others dropped.

    A reschedule calls this again: reminders move to the new time, even those already sent
    for the old one (the patient is reminded of the new time).
    """
    offsets = [offset for offset, _ in due]
    await con.execute(
        """UPDATE notify.reminders SET status = 'cancelled', done_at = NULL, note = 'replanned'
           WHERE appointment_id = $1 AND status = 'pending' AND NOT (offset_minutes = ANY($2))""",
        appointment_id,
        offsets,
    )
    await con.executemany(
        """INSERT INTO notify.reminders (appointment_id, offset_minutes, due_at, starts_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (appointment_id, offset_minutes) DO UPDATE
           SET due_at = excluded.due_at, starts_at = excluded.starts_at, status = 'pending',
               done_at = NULL, note = NULL
           WHERE notify.reminders.starts_at <> excluded.starts_at
              OR notify.reminders.status = 'pending'""",
        [(appointment_id, offset, at, starts_at) for offset, at in due],
    )


async def cancel(con: asyncpg.Connection, appointment_id: uuid.UUID, note: str) -> int:
    """No reminder of the appointment is sent any more; returns how many were pending."""
    result: str = await con.execute(
        """UPDATE notify.reminders SET status = 'cancelled', note = $2
           WHERE appointment_id = $1 AND status = 'pending'""",
        appointment_id,
        note,
    )
    return int(result.split()[-1])


async def claim_due(con: asyncpg.Connection, now: datetime, limit: int) -> list[DueReminder]:
    """Lock up to `limit` due reminders for the caller's transaction; other nodes skip them."""
    rows = await con.fetch(
        """SELECT r.appointment_id, r.offset_minutes, r.due_at, r.starts_at,
                  EXISTS (SELECT 1 FROM notify.reminders o
                          WHERE o.appointment_id = r.appointment_id AND o.status = 'pending'
                            AND o.offset_minutes < r.offset_minutes AND o.due_at <= $1)
                  AS superseded
           FROM notify.reminders r
           WHERE r.status = 'pending' AND r.due_at <= $1
           ORDER BY r.due_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED""",
        now,
        limit,
    )
    return [DueReminder(**dict(r)) for r in rows]


async def finish(
    con: asyncpg.Connection,
    appointment_id: uuid.UUID,
    offset_minutes: int,
    status: str,
    now: datetime,
    note: str | None = None,
) -> None:
    await con.execute(
        """UPDATE notify.reminders SET status = $3, done_at = $4, note = $5
           WHERE appointment_id = $1 AND offset_minutes = $2""",
        appointment_id,
        offset_minutes,
        status,
        now,
        note,
    )


async def of_appointment(db: Db, appointment_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT offset_minutes, due_at, starts_at, status, done_at, note
           FROM notify.reminders WHERE appointment_id = $1 ORDER BY due_at""",
        appointment_id,
    )
    return rows


async def offsets_of_doctor(db: Db, doctor_id: uuid.UUID) -> list[int] | None:
    offsets: list[int] | None = await db.fetchval(
        "SELECT offsets_minutes FROM notify.reminder_settings WHERE doctor_id = $1", doctor_id
    )
    return offsets


async def set_offsets_of_doctor(
    db: Db, doctor_id: uuid.UUID, offsets: Sequence[int], now: datetime
) -> None:
    await db.execute(
        """INSERT INTO notify.reminder_settings (doctor_id, offsets_minutes, updated_at)
           VALUES ($1, $2, $3)
           ON CONFLICT (doctor_id) DO UPDATE SET offsets_minutes = $2, updated_at = $3""",
        doctor_id,
        list(offsets),
        now,
    )
