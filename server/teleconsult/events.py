"""teleconsultation.started / teleconsultation.ended payloads and the helpers that emit them.

The room id is a capability (whoever knows it could try the room), so no event carries it.
Envelope subject: `teleconsultation:<session_id>`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from bus import events
from bus.events import register_payload
from bus.outbox import emit
from server import clock


class TeleconsultationStarted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    appointment_id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    started_at: datetime


class TeleconsultationEnded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: uuid.UUID
    appointment_id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    status: Literal["completed", "failed"]
    started_at: datetime | None
    ended_at: datetime
    duration_s: int
    ended_by: uuid.UUID | None  # null when the system ended it (e.g. appointment cancelled)
    reason: str | None


register_payload(events.TELECONSULTATION_STARTED, TeleconsultationStarted)
register_payload(events.TELECONSULTATION_ENDED, TeleconsultationEnded)


async def emit_started(
    con: asyncpg.Connection, row: asyncpg.Record, patient_id: uuid.UUID, actor: str | None
) -> None:
    payload = TeleconsultationStarted(
        session_id=row["id"],
        appointment_id=row["appointment_id"],
        doctor_id=row["doctor_id"],
        patient_id=patient_id,
        started_at=row["started_at"],
    )
    await emit(
        con,
        events.TELECONSULTATION_STARTED,
        f"teleconsultation:{row['id']}",
        payload,
        actor,
        at=clock.now(),
    )


async def emit_ended(
    con: asyncpg.Connection, row: asyncpg.Record, patient_id: uuid.UUID, actor: str | None
) -> None:
    payload = TeleconsultationEnded(
        session_id=row["id"],
        appointment_id=row["appointment_id"],
        doctor_id=row["doctor_id"],
        patient_id=patient_id,
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        ended_by=row["ended_by"],
        reason=row["end_reason"],
    )
    await emit(
        con,
        events.TELECONSULTATION_ENDED,
        f"teleconsultation:{row['id']}",
        payload,
        actor,
        at=clock.now(),
    )
