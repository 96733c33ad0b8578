"""Rows the patients tests need from other domains, written directly (no other domain's routes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

_BASE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


async def make_appointment(
    db: asyncpg.Connection,
    doctor_id: uuid.UUID,
    patient_id: uuid.UUID,
    status: str = "scheduled",
    *,
    slot: int | None = None,
) -> uuid.UUID:
    """An appointment row in scheduling.appointments (0006), each in its own half-hour slot."""
    slot = (
        slot
        if slot is not None
        else await db.fetchval("SELECT count(*) FROM scheduling.appointments")
    )
    start = _BASE + timedelta(minutes=30 * slot)
    appointment_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO scheduling.appointments
               (id, doctor_id, patient_id, period, visit_type, status, fee, currency,
                hold_expires_at)
           VALUES ($1, $2, $3, tstzrange($4, $5), 'in-person', $6, 3000, 'EUR',
                   CASE WHEN $6 = 'held' THEN now() + interval '5 minutes' END)""",
        appointment_id,
        doctor_id,
        patient_id,
        start,
        start + timedelta(minutes=30),
        status,
    )
    return appointment_id


async def audit_actions(
    db: asyncpg.Connection, resource_id: uuid.UUID
) -> list[tuple[str, str, int]]:
    """(action, role, status) of the explicit access records about one patient, oldest first."""
    rows = await db.fetch(
        """SELECT action, role, response_status FROM audit.logs
           WHERE resource_id = $1 AND action NOT LIKE '% %' ORDER BY append_id""",
        str(resource_id),
    )
    return [(r["action"], r["role"], r["response_status"]) for r in rows]
