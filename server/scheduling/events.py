"""Scheduling event payloads (contracts.md) and the helpers that write them to the outbox.

Every helper runs on the connection whose transaction makes the change. `availability_version`
is the doctor's version after that transaction (unchanged when the slots did not change).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict

from bus import events
from bus.events import Envelope, register_payload
from bus.outbox import emit, envelope, write
from server import clock


class SlotChanged(BaseModel):
    """slot.held / slot.booked / slot.released."""

    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
    appointment_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: str
    availability_version: int


class AppointmentChanged(BaseModel):
    """appointment.*; `reason` is the free text the actor gave (cancel, reschedule), else null."""

    model_config = ConfigDict(extra="forbid")

    appointment_id: uuid.UUID
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    start: datetime
    end: datetime
    visit_type: str
    status: str
    previous_start: datetime | None = None
    previous_end: datetime | None = None
    reason: str | None = None
    cancelled_by: str | None = None
    availability_version: int


class AvailabilityUpdated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
    availability_version: int


SLOT_EVENTS = (events.SLOT_HELD, events.SLOT_BOOKED, events.SLOT_RELEASED)
APPOINTMENT_EVENTS = (
    events.APPOINTMENT_CREATED,
    events.APPOINTMENT_CONFIRMED,
    events.APPOINTMENT_CANCELLED,
    events.APPOINTMENT_RESCHEDULED,
    events.APPOINTMENT_COMPLETED,
    events.APPOINTMENT_NO_SHOW,
    events.APPOINTMENT_UPDATED,
)
for _type in SLOT_EVENTS:
    register_payload(_type, SlotChanged)
for _type in APPOINTMENT_EVENTS:
    register_payload(_type, AppointmentChanged)
register_payload(events.DOCTOR_AVAILABILITY_UPDATED, AvailabilityUpdated)


def slot_event(event_type: str, payload: SlotChanged, actor: str | None) -> Envelope:
    return envelope(event_type, f"doctor:{payload.doctor_id}", payload, actor, at=clock.now())


def appointment_event(event_type: str, payload: AppointmentChanged, actor: str | None) -> Envelope:
    return envelope(
        event_type, f"appointment:{payload.appointment_id}", payload, actor, at=clock.now()
    )


async def emit_slot(
    con: asyncpg.Connection,
    event_type: str,
    payload: SlotChanged,
    actor: str | None,
) -> None:
    await write(con, slot_event(event_type, payload, actor))


async def emit_appointment(
    con: asyncpg.Connection,
    event_type: str,
    payload: AppointmentChanged,
    actor: str | None,
) -> None:
    await write(con, appointment_event(event_type, payload, actor))


async def emit_availability(
    con: asyncpg.Connection, doctor_id: uuid.UUID, version: int, actor: str | None
) -> None:
    await emit(
        con,
        events.DOCTOR_AVAILABILITY_UPDATED,
        f"doctor:{doctor_id}",
        AvailabilityUpdated(doctor_id=doctor_id, availability_version=version),
        actor=actor,
        at=clock.now(),
    )


def slot_payload(
    row: Mapping[str, Any], version: int, start: datetime | None = None, end: datetime | None = None
) -> SlotChanged:
    """The slot an appointment row (or the mapping of one about to be) occupies (or occupied:
    pass the old `start`/`end`)."""
    return SlotChanged(
        doctor_id=row["doctor_id"],
        appointment_id=row["id"],
        start=start or row["start_at"],
        end=end or row["end_at"],
        visit_type=row["visit_type"],
        availability_version=version,
    )


def appointment_payload(
    row: Mapping[str, Any],
    version: int,
    *,
    previous: tuple[datetime, datetime] | None = None,
    reason: str | None = None,
) -> AppointmentChanged:
    return AppointmentChanged(
        appointment_id=row["id"],
        doctor_id=row["doctor_id"],
        patient_id=row["patient_id"],
        start=row["start_at"],
        end=row["end_at"],
        visit_type=row["visit_type"],
        status=row["status"],
        previous_start=previous[0] if previous else None,
        previous_end=previous[1] if previous else None,
        reason=reason,
        cancelled_by=row["cancelled_by"],
        availability_version=version,
    )
