"""Payloads of the events the doctors domain emits (see /work/contracts.md)."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import BaseModel, ConfigDict

from bus.events import (
    DOCTOR_CREATED,
    DOCTOR_DELETED,
    DOCTOR_REVIEWED,
    DOCTOR_UPDATED,
    DOCTOR_VERIFIED,
    register_payload,
)
from bus.outbox import emit
from server import clock


class DoctorChanged(BaseModel):
    """Consumers re-read the doctor: the event only says which one changed."""

    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID


class DoctorReviewed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doctor_id: uuid.UUID
    review_id: uuid.UUID
    rating: int
    average_rating: float
    total_reviews: int


def subject(doctor_id: uuid.UUID) -> str:
    return f"doctor:{doctor_id}"


async def emit_changed(
    con: asyncpg.Connection, event_type: str, doctor_id: uuid.UUID, actor: str | None = None
) -> None:
    """Record, in the caller's transaction, that the doctor changed (DoctorChanged types)."""
    await emit(
        con,
        event_type,
        subject(doctor_id),
        DoctorChanged(doctor_id=doctor_id),
        actor=actor,
        at=clock.now(),
    )


for _type in (DOCTOR_CREATED, DOCTOR_UPDATED, DOCTOR_VERIFIED, DOCTOR_DELETED):
    register_payload(_type, DoctorChanged)
register_payload(DOCTOR_REVIEWED, DoctorReviewed)
