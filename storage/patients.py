"""SQL of the patients domain: profiles, encrypted medical history, favorites, GDPR erasure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypedDict

import asyncpg

from storage.errors import ConstraintViolation


class PatientFields(TypedDict):
    """Every column a patient may set on their profile."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: str | None
    phone: str | None
    address: dict[str, Any]
    insurance_info: dict[str, Any]


async def patient_id_for_user(con: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM patients.patients WHERE user_id = $1", user_id
    )
    return value


async def insert_patient(
    con: asyncpg.Connection, user_id: uuid.UUID, f: PatientFields, now: datetime
) -> uuid.UUID:
    try:
        patient_id: uuid.UUID = await con.fetchval(
            """INSERT INTO patients.patients (user_id, first_name, last_name, date_of_birth,
                                              gender, phone, address, insurance_info,
                                              created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id""",
            user_id,
            f["first_name"],
            f["last_name"],
            f["date_of_birth"],
            f["gender"],
            f["phone"],
            f["address"],
            f["insurance_info"],
            now,
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConstraintViolation(exc.constraint_name or "patients_user_id_key") from exc
    return patient_id


async def get_patient(
    con: asyncpg.Connection, patient_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """A live (not erased) patient; erased rows only remain for the appointments' references."""
    if for_update:
        return await con.fetchrow(
            """SELECT id, user_id, first_name, last_name, date_of_birth, gender, phone, address,
                      insurance_info, created_at, updated_at
               FROM patients.patients WHERE id = $1 AND erased_at IS NULL FOR UPDATE""",
            patient_id,
        )
    return await con.fetchrow(
        """SELECT id, user_id, first_name, last_name, date_of_birth, gender, phone, address,
                  insurance_info, created_at, updated_at
           FROM patients.patients WHERE id = $1 AND erased_at IS NULL""",
        patient_id,
    )


async def update_patient(
    con: asyncpg.Connection, patient_id: uuid.UUID, f: PatientFields, now: datetime
) -> None:
    await con.execute(
        """UPDATE patients.patients
           SET first_name = $2, last_name = $3, date_of_birth = $4, gender = $5, phone = $6,
               address = $7, insurance_info = $8, updated_at = $9
           WHERE id = $1""",
        patient_id,
        f["first_name"],
        f["last_name"],
        f["date_of_birth"],
        f["gender"],
        f["phone"],
        f["address"],
        f["insurance_info"],
        now,
    )


async def doctor_treats_patient(
    con: asyncpg.Connection, doctor_user_id: uuid.UUID, patient_id: uuid.UUID
) -> bool:
    # Cross-schema read of scheduling.appointments (scheduling domain, migration 0006): a doctor
    # reaches a patient's record only through an appointment that was really made. Held slots
    # (not yet booked) and cancelled appointments do not count; past ones do (follow-up care).
    found: bool = await con.fetchval(
        """SELECT EXISTS (
               SELECT 1 FROM scheduling.appointments a
               JOIN doctors.doctors d ON d.id = a.doctor_id
               WHERE d.user_id = $1 AND a.patient_id = $2
                 AND a.status IN ('scheduled', 'confirmed', 'completed', 'no-show'))""",
        doctor_user_id,
        patient_id,
    )
    return found


async def insert_history_entry(
    con: asyncpg.Connection,
    patient_id: uuid.UUID,
    condition: Mapping[str, object],
    diagnosis_date: date | None,
    notes: Mapping[str, object] | None,
    created_by: uuid.UUID,
    now: datetime,
) -> asyncpg.Record:
    row: asyncpg.Record = await con.fetchrow(
        """INSERT INTO patients.medical_history
               (patient_id, condition, diagnosis_date, notes, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, patient_id, condition, diagnosis_date, notes, created_by, created_at""",
        patient_id,
        condition,
        diagnosis_date,
        notes,
        created_by,
        now,
    )
    return row


async def list_history(
    con: asyncpg.Connection, patient_id: uuid.UUID, limit: int, offset: int
) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            """SELECT id, patient_id, condition, diagnosis_date, notes, created_by, created_at
               FROM patients.medical_history WHERE patient_id = $1
               ORDER BY created_at, id LIMIT $2 OFFSET $3""",
            patient_id,
            limit,
            offset,
        )
    )


async def count_history(con: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    total: int = await con.fetchval(
        "SELECT count(*) FROM patients.medical_history WHERE patient_id = $1", patient_id
    )
    return total


async def list_favorites(con: asyncpg.Connection, patient_id: uuid.UUID) -> list[asyncpg.Record]:
    # Doctors who lost their verification drop out of the list (they are not public any more).
    return list(
        await con.fetch(
            """SELECT d.id, d.first_name, d.last_name, d.specializations, d.city,
                      d.profile_image_url, d.rating, d.total_reviews, f.created_at AS favorited_at
               FROM patients.favorite_doctors f JOIN doctors.doctors d ON d.id = f.doctor_id
               WHERE f.patient_id = $1 AND d.verification_status = 'verified'
               ORDER BY f.created_at DESC, d.id""",
            patient_id,
        )
    )


async def add_favorite(
    con: asyncpg.Connection, patient_id: uuid.UUID, doctor_id: uuid.UUID, now: datetime
) -> None:
    await con.execute(
        """INSERT INTO patients.favorite_doctors (patient_id, doctor_id, created_at)
           VALUES ($1, $2, $3)
           ON CONFLICT (patient_id, doctor_id) DO NOTHING""",
        patient_id,
        doctor_id,
        now,
    )


async def remove_favorite(
    con: asyncpg.Connection, patient_id: uuid.UUID, doctor_id: uuid.UUID
) -> bool:
    status: str = await con.execute(
        "DELETE FROM patients.favorite_doctors WHERE patient_id = $1 AND doctor_id = $2",
        patient_id,
        doctor_id,
    )
    return status != "DELETE 0"


async def erase_patient(con: asyncpg.Connection, patient_id: uuid.UUID, now: datetime) -> None:
    """GDPR erasure: the row stays (appointments point at it) but says nothing about anyone."""
    await con.execute(
        """UPDATE patients.patients
           SET first_name = 'Erased', last_name = 'Erased', date_of_birth = NULL, gender = NULL,
               phone = NULL, address = '{}', insurance_info = '{}', user_id = NULL,
               erased_at = $2, updated_at = $2
           WHERE id = $1""",
        patient_id,
        now,
    )
    await con.execute("DELETE FROM patients.medical_history WHERE patient_id = $1", patient_id)
    await con.execute("DELETE FROM patients.favorite_doctors WHERE patient_id = $1", patient_id)


async def insert_profile_for_account(
    con: asyncpg.Connection, user_id: uuid.UUID, first_name: str, last_name: str, now: datetime
) -> uuid.UUID | None:
    """A new account's minimal profile; None when the account already has one."""
    patient_id: uuid.UUID | None = await con.fetchval(
        """INSERT INTO patients.patients (user_id, first_name, last_name, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id) DO NOTHING RETURNING id""",
        user_id,
        first_name,
        last_name,
        now,
    )
    return patient_id
