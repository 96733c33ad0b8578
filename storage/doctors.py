"""SQL of the doctors domain: profiles, the specialization catalogue, verification, reviews."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict

import asyncpg

from storage.errors import ConstraintViolation


class DoctorFields(TypedDict):
    """Every column a doctor (or an admin) may set on a profile."""

    first_name: str
    last_name: str
    specializations: list[str]
    license_number: str
    years_of_experience: int
    consultation_fee: int
    currency: str
    bio: str
    profile_image_url: str | None
    languages: list[str]
    address_line: str
    city: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    time_zone: str
    accepts_new_patients: bool


def _field_values(f: DoctorFields) -> list[object]:
    """The profile columns' parameters, in DoctorFields order: the order of the column lists
    of insert_doctor and update_doctor below."""
    values: Mapping[str, object] = f
    return [values[name] for name in DoctorFields.__annotations__]


LICENSE_TAKEN = "doctors_license_number_key"  # else the one-profile-per-user key


def _unique_violation(exc: asyncpg.UniqueViolationError) -> ConstraintViolation:
    return ConstraintViolation(exc.constraint_name or "doctors_user_id_key")


async def list_specializations(con: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            "SELECT code, name_en, name_fr FROM doctors.specializations ORDER BY name_en"
        )
    )


async def unknown_specializations(con: asyncpg.Connection, codes: list[str]) -> list[str]:
    rows = await con.fetch(
        """SELECT c.code FROM unnest($1::text[]) AS c (code)
           WHERE NOT EXISTS (SELECT 1 FROM doctors.specializations s WHERE s.code = c.code)""",
        codes,
    )
    return [r["code"] for r in rows]


async def specializations_by_code(
    con: asyncpg.Connection, codes: list[str]
) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            """SELECT s.code, s.name_en, s.name_fr
               FROM unnest($1::text[]) WITH ORDINALITY AS c (code, n)
               JOIN doctors.specializations s ON s.code = c.code
               ORDER BY c.n""",
            codes,
        )
    )


async def insert_doctor(
    con: asyncpg.Connection, user_id: uuid.UUID, f: DoctorFields, now: datetime
) -> asyncpg.Record:
    try:
        row: asyncpg.Record = await con.fetchrow(
            """INSERT INTO doctors.doctors (
                   user_id, first_name, last_name, specializations, license_number,
                   years_of_experience, consultation_fee, currency, bio, profile_image_url,
                   languages, address_line, city, postcode, country, latitude, longitude,
                   time_zone, accepts_new_patients, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                       $17, $18, $19, $20, $20)
               RETURNING id""",
            user_id,
            *_field_values(f),
            now,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _unique_violation(exc) from exc
    return row


async def update_doctor(
    con: asyncpg.Connection, doctor_id: uuid.UUID, f: DoctorFields, now: datetime
) -> None:
    try:
        await con.execute(
            """UPDATE doctors.doctors SET
                   first_name = $2, last_name = $3, specializations = $4, license_number = $5,
                   years_of_experience = $6, consultation_fee = $7, currency = $8, bio = $9,
                   profile_image_url = $10, languages = $11, address_line = $12, city = $13,
                   postcode = $14, country = $15, latitude = $16, longitude = $17,
                   time_zone = $18, accepts_new_patients = $19, updated_at = $20
               WHERE id = $1""",
            doctor_id,
            *_field_values(f),
            now,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _unique_violation(exc) from exc


async def get_doctor(
    con: asyncpg.Connection, doctor_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    if for_update:
        # The row lock serialises concurrent edits, verifications and review tallies.
        return await con.fetchrow(
            """SELECT id, user_id, first_name, last_name, specializations, license_number,
                      years_of_experience, consultation_fee, currency, bio, profile_image_url,
                      languages, address_line, city, postcode, country, latitude, longitude,
                      time_zone, accepts_new_patients, verification_status, verified_at,
                      verification_note, rating, total_reviews, created_at, updated_at
               FROM doctors.doctors WHERE id = $1 FOR UPDATE""",
            doctor_id,
        )
    return await con.fetchrow(
        """SELECT id, user_id, first_name, last_name, specializations, license_number,
                  years_of_experience, consultation_fee, currency, bio, profile_image_url,
                  languages, address_line, city, postcode, country, latitude, longitude,
                  time_zone, accepts_new_patients, verification_status, verified_at,
                  verification_note, rating, total_reviews, created_at, updated_at
           FROM doctors.doctors WHERE id = $1""",
        doctor_id,
    )


async def doctor_id_for_user(con: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await con.fetchval(
        "SELECT id FROM doctors.doctors WHERE user_id = $1", user_id
    )
    return value


async def set_verification(
    con: asyncpg.Connection, doctor_id: uuid.UUID, status: str, note: str | None, now: datetime
) -> None:
    await con.execute(
        """UPDATE doctors.doctors
           SET verification_status = $2, verification_note = $3, updated_at = $4,
               verified_at = CASE WHEN $2 = 'verified' THEN $4::timestamptz END
           WHERE id = $1""",
        doctor_id,
        status,
        note,
        now,
    )


async def appointment_status_for_review(
    con: asyncpg.Connection, appointment_id: uuid.UUID, doctor_id: uuid.UUID, patient_id: uuid.UUID
) -> str | None:
    # Cross-schema read of scheduling.appointments (owned by the scheduling domain, migration
    # 0006): a review must rest on an appointment between this patient and this doctor.
    status: str | None = await con.fetchval(
        """SELECT status FROM scheduling.appointments
           WHERE id = $1 AND doctor_id = $2 AND patient_id = $3""",
        appointment_id,
        doctor_id,
        patient_id,
    )
    return status


async def insert_review(
    con: asyncpg.Connection,
    doctor_id: uuid.UUID,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    rating: int,
    comment: str,
    now: datetime,
) -> asyncpg.Record:
    try:
        row: asyncpg.Record = await con.fetchrow(
            """INSERT INTO doctors.reviews
                   (doctor_id, patient_id, appointment_id, rating, comment, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               RETURNING id, doctor_id, patient_id, appointment_id, rating, comment, created_at""",
            doctor_id,
            patient_id,
            appointment_id,
            rating,
            comment,
            now,
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConstraintViolation(exc.constraint_name or "reviews_appointment_id_key") from exc
    return row


async def refresh_rating(
    con: asyncpg.Connection, doctor_id: uuid.UUID, now: datetime
) -> asyncpg.Record:
    """Recompute the average from the reviews themselves: exact, and no drift from rounding."""
    row: asyncpg.Record = await con.fetchrow(
        """UPDATE doctors.doctors d
           SET rating = r.average, total_reviews = r.total, updated_at = $2
           FROM (SELECT coalesce(round(avg(rating), 2), 0) AS average, count(*) AS total
                 FROM doctors.reviews WHERE doctor_id = $1) AS r
           WHERE d.id = $1
           RETURNING d.rating, d.total_reviews""",
        doctor_id,
        now,
    )
    return row


async def list_reviews(
    con: asyncpg.Connection, doctor_id: uuid.UUID, limit: int, offset: int
) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            """SELECT id, doctor_id, patient_id, appointment_id, rating, comment, created_at
               FROM doctors.reviews WHERE doctor_id = $1
               ORDER BY created_at DESC, id LIMIT $2 OFFSET $3""",
            doctor_id,
            limit,
            offset,
        )
    )


async def count_reviews(con: asyncpg.Connection, doctor_id: uuid.UUID) -> int:
    total: int = await con.fetchval(
        "SELECT count(*) FROM doctors.reviews WHERE doctor_id = $1", doctor_id
    )
    return total


async def clear_review_comments(con: asyncpg.Connection, patient_id: uuid.UUID) -> None:
    # GDPR erasure: free text may identify its author; the rating stays for the doctor's average.
    await con.execute(
        "UPDATE doctors.reviews SET comment = '' WHERE patient_id = $1 AND comment <> ''",
        patient_id,
    )
