"""Read-only lookups of doctors and patients (tables owned by their domains)."""

from __future__ import annotations

import uuid

import asyncpg


async def fetch_doctor(
    con: asyncpg.Connection | asyncpg.Pool, doctor_id: uuid.UUID
) -> asyncpg.Record | None:
    """What scheduling needs of a doctor: owner, zone, fee and whether patients may book."""
    row: asyncpg.Record | None = await con.fetchrow(
        """SELECT id, user_id, time_zone, verification_status, consultation_fee, currency,
                  accepts_new_patients
           FROM doctors.doctors WHERE id = $1""",
        doctor_id,
    )
    return row


async def doctor_id_for_user(
    con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID
) -> uuid.UUID | None:
    doctor_id: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM doctors.doctors WHERE user_id = $1", user_id
    )
    return doctor_id


async def patient_id_for_user(
    con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID
) -> uuid.UUID | None:
    patient_id: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM patients.patients WHERE user_id = $1 AND erased_at IS NULL", user_id
    )
    return patient_id


async def patient_and_relatives_for_user(
    con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID
) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """The user's own patient id and the relatives they manage (patients.relatives, migration
    0023), in the one statement patient_id_for_user costs."""
    row = await con.fetchrow(
        """SELECT (SELECT id FROM patients.patients WHERE user_id = $1 AND erased_at IS NULL)
                      AS patient_id,
                  ARRAY(SELECT l.relative_id FROM patients.relatives l
                        WHERE l.proxy_user_id = $1 AND l.revoked_at IS NULL) AS relative_ids""",
        user_id,
    )
    assert row is not None
    return row["patient_id"], list(row["relative_ids"])


async def patient_exists(con: asyncpg.Connection | asyncpg.Pool, patient_id: uuid.UUID) -> bool:
    found = await con.fetchval(
        "SELECT true FROM patients.patients WHERE id = $1 AND erased_at IS NULL", patient_id
    )
    return bool(found)
