"""The database itself refuses double booking: exclusion constraints, mapped to domain errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server.settings import Settings
from storage.errors import ConstraintViolation
from storage.scheduling import appointments as store
from tests.factories import make_doctor, make_patient


def _new(
    doctor_id: uuid.UUID, patient_id: uuid.UUID, start: datetime, status: str = "scheduled"
) -> store.NewAppointment:
    return store.NewAppointment(
        id=uuid.uuid4(),
        doctor_id=doctor_id,
        patient_id=patient_id,
        start=start,
        end=start + timedelta(minutes=30),
        visit_type="in-person",
        status=status,
        reason_id=None,
        location="",
        notes=None,
        fee=0,
        currency="EUR",
        hold_expires_at=start if status == "held" else None,
        created_by=None,
    )


async def test_overlapping_active_appointments_are_refused_by_the_database(
    db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, other_doctor = await make_doctor(db, settings), await make_doctor(db, settings)
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    start = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    async with db.transaction():
        await store.insert_appointment(db, _new(doctor.id, patient.id, start, "held"))
        with pytest.raises(ConstraintViolation, match=store.DOCTOR_OVERLAP):
            async with db.transaction():  # a savepoint: the failed insert aborts only it
                await store.insert_appointment(
                    db, _new(doctor.id, other_patient.id, start + timedelta(minutes=15))
                )
        with pytest.raises(ConstraintViolation, match=store.PATIENT_OVERLAP):
            async with db.transaction():
                await store.insert_appointment(db, _new(other_doctor.id, patient.id, start))
        # Back to back is fine, and so is overlapping a finished (inactive) appointment.
        await store.insert_appointment(
            db, _new(doctor.id, other_patient.id, start + timedelta(minutes=30))
        )
        await store.insert_appointment(db, _new(doctor.id, other_patient.id, start, "cancelled"))
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 3
