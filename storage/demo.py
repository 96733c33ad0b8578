"""Bulk SQL of the doctors and patients demo seeds (executemany: hundreds of rows in one trip).

Demo rows carry fixed ids, so a second run finds them and inserts nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

# Any constant shared by every node: two nodes seeding at once take turns.
SEED_LOCK_KEY = 0x4D4B444F43534544

DemoUser = tuple[uuid.UUID, str, str, str]  # id, email, password hash, role


async def lock_seed(con: asyncpg.Connection) -> None:
    await con.execute("SELECT pg_advisory_xact_lock($1)", SEED_LOCK_KEY)


async def existing_doctor_ids(con: asyncpg.Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await con.fetch("SELECT id FROM doctors.doctors WHERE id = ANY($1::uuid[])", ids)
    return {r["id"] for r in rows}


async def existing_patient_ids(con: asyncpg.Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await con.fetch("SELECT id FROM patients.patients WHERE id = ANY($1::uuid[])", ids)
    return {r["id"] for r in rows}


async def user_id_by_email(con: asyncpg.Connection, email: str) -> uuid.UUID | None:
    # Cross-schema read of auth.users: the demo accounts the auth seed step made.
    user_id: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM auth.users WHERE lower(email) = lower($1)", email
    )
    return user_id


async def insert_demo_users(
    con: asyncpg.Connection, users: Sequence[DemoUser], now: datetime
) -> None:
    # Cross-schema write to auth.users: demo doctors and patients need accounts to exist.
    await con.executemany(
        """INSERT INTO auth.users (id, email, password_hash, role, is_verified, created_at,
                                   updated_at)
           VALUES ($1, $2, $3, $4, true, $5, $5) ON CONFLICT DO NOTHING""",
        [(*user, now) for user in users],
    )


async def insert_demo_doctors(
    con: asyncpg.Connection, doctors: Sequence[Sequence[Any]], now: datetime
) -> None:
    """Rows in the column order below; every demo doctor is verified (public and bookable)
    as of `now`."""
    await con.executemany(
        """INSERT INTO doctors.doctors (
               id, user_id, first_name, last_name, specializations, license_number,
               years_of_experience, consultation_fee, currency, bio, languages, address_line,
               city, postcode, country, latitude, longitude, time_zone, accepts_new_patients,
               verification_status, verified_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                   $18, $19, 'verified', $20, $20, $20)
           ON CONFLICT DO NOTHING""",
        [(*row, now) for row in doctors],
    )


async def insert_demo_patients(
    con: asyncpg.Connection, patients: Sequence[Sequence[Any]], now: datetime
) -> None:
    """Rows: id, user_id, first_name, last_name, date_of_birth, gender, phone, address."""
    await con.executemany(
        """INSERT INTO patients.patients (id, user_id, first_name, last_name, date_of_birth,
                                          gender, phone, address, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING""",
        [(*row, now) for row in patients],
    )


async def insert_demo_history(
    con: asyncpg.Connection, entries: Sequence[Sequence[Any]], now: datetime
) -> None:
    """Rows: patient_id, condition (encrypted), diagnosis_date, notes (encrypted or None)."""
    await con.executemany(
        """INSERT INTO patients.medical_history
               (patient_id, condition, diagnosis_date, notes, created_at)
           VALUES ($1, $2, $3, $4, $5)""",
        [(*entry, now) for entry in entries],
    )


async def completed_unreviewed_appointments(con: asyncpg.Connection) -> list[asyncpg.Record]:
    # Cross-schema read of scheduling.appointments: demo reviews rest on completed visits.
    rows: list[asyncpg.Record] = await con.fetch(
        """SELECT a.id, a.doctor_id, a.patient_id, upper(a.period) AS ends_at
           FROM scheduling.appointments a
           LEFT JOIN doctors.reviews r ON r.appointment_id = a.id
           WHERE a.status = 'completed' AND r.id IS NULL
           ORDER BY a.id"""
    )
    return rows


async def insert_demo_reviews(con: asyncpg.Connection, reviews: Sequence[Sequence[Any]]) -> None:
    await con.executemany(
        """INSERT INTO doctors.reviews
               (doctor_id, patient_id, appointment_id, rating, comment, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        reviews,
    )


async def refresh_ratings(
    con: asyncpg.Connection, doctor_ids: list[uuid.UUID], now: datetime
) -> None:
    """The bulk form of storage.doctors.refresh_rating: averages recomputed from the reviews."""
    await con.execute(
        """UPDATE doctors.doctors d
           SET rating = r.average, total_reviews = r.total, updated_at = $2
           FROM (SELECT doctor_id, round(avg(rating), 2) AS average, count(*) AS total
                 FROM doctors.reviews WHERE doctor_id = ANY($1::uuid[])
                 GROUP BY doctor_id) AS r
           WHERE d.id = r.doctor_id""",
        doctor_ids,
        now,
    )
