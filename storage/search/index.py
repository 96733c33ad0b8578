"""SQL that keeps `search.doctor_index` current: profiles from doctors.doctors (read-only for us),
availability from the scheduling service, and the reads the backends mirror or sweep."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from storage.search.folding import fold

_TEXT_COLUMNS = ("id", "first_name", "last_name", "city")  # shown as written
# Folded column -> the text it folds.
_FOLDED = {
    "first_key": "first_name",
    "last_key": "last_name",
    "city_key": "city",
    "specialty_key": "specialization_names",
    "bio_key": "bio",
}
# Text as read (with its folded form) from the first statement, the rest from doctors.doctors:
# a profile change in between only reaches the other columns, and its own event re-indexes.
UPSERT_SQL = """
WITH upserted AS (
    INSERT INTO search.doctor_index AS i (
        doctor_id, first_name, last_name, specializations, city, postcode, country, latitude,
        longitude, location, consultation_fee, currency, rating, total_reviews, languages,
        accepts_new_patients, profile_image_url, time_zone, first_key, last_key, city_key,
        specialty_key, bio_key, indexed_at)
    SELECT d.id, t.first_name, t.last_name, d.specializations, t.city, d.postcode, d.country,
           d.latitude, d.longitude,
           CASE WHEN d.latitude IS NOT NULL AND d.longitude IS NOT NULL
                THEN ll_to_earth(d.latitude, d.longitude) END,
           d.consultation_fee, d.currency, d.rating, d.total_reviews, d.languages,
           d.accepts_new_patients, d.profile_image_url, d.time_zone, t.first_key, t.last_key,
           t.city_key, t.specialty_key, t.bio_key, $10::timestamptz
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[])
         AS t(id, first_name, last_name, city, first_key, last_key, city_key, specialty_key,
              bio_key)
    JOIN doctors.doctors d ON d.id = t.id AND d.verification_status = 'verified'
    ON CONFLICT (doctor_id) DO UPDATE SET
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
        specializations = EXCLUDED.specializations, city = EXCLUDED.city,
        postcode = EXCLUDED.postcode, country = EXCLUDED.country,
        latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
        location = EXCLUDED.location, consultation_fee = EXCLUDED.consultation_fee,
        currency = EXCLUDED.currency, rating = EXCLUDED.rating,
        total_reviews = EXCLUDED.total_reviews, languages = EXCLUDED.languages,
        accepts_new_patients = EXCLUDED.accepts_new_patients,
        profile_image_url = EXCLUDED.profile_image_url, time_zone = EXCLUDED.time_zone,
        first_key = EXCLUDED.first_key, last_key = EXCLUDED.last_key,
        city_key = EXCLUDED.city_key, specialty_key = EXCLUDED.specialty_key,
        bio_key = EXCLUDED.bio_key, indexed_at = EXCLUDED.indexed_at
    RETURNING doctor_id, document
), vocabulary AS (
    INSERT INTO search.words (word)
    SELECT DISTINCT w.lexeme FROM upserted u, unnest(u.document) w
    WHERE w.weights && ARRAY['A', 'B', 'C']
    ORDER BY w.lexeme  -- one lock order for concurrent writers
    ON CONFLICT DO NOTHING
)
SELECT doctor_id FROM upserted
"""


async def upsert_profiles(
    con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    """Copy these doctors' profiles in if they are verified (indexed at `now`); return the ids
    now indexed.

    Text is folded here (storage/search/folding.py), the one folding queries use too. The
    words of their names, specialties and cities join the typo-correction vocabulary.
    """
    texts = await con.fetch(
        """SELECT d.id, d.first_name, d.last_name, d.city, d.bio,
                  coalesce((SELECT string_agg(s.name_en || ' ' || s.name_fr, ' ' ORDER BY s.code)
                            FROM doctors.specializations s
                            WHERE s.code = ANY (d.specializations)), '') AS specialization_names
           FROM doctors.doctors d
           WHERE d.id = ANY ($1::uuid[]) AND d.verification_status = 'verified'""",
        list(doctor_ids),
    )
    if not texts:
        return []
    columns: dict[str, list[Any]] = {name: [r[name] for r in texts] for name in _TEXT_COLUMNS}
    for key, source in _FOLDED.items():
        columns[key] = [fold(r[source]) for r in texts]
    rows = await con.fetch(UPSERT_SQL, *columns.values(), now)
    return [r["doctor_id"] for r in rows]


async def delete_doctors(
    con: asyncpg.Connection, doctor_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await con.fetch(
        """DELETE FROM search.doctor_index WHERE doctor_id = ANY ($1::uuid[])
           RETURNING doctor_id""",
        list(doctor_ids),
    )
    return [r["doctor_id"] for r in rows]


async def delete_unlisted(con: asyncpg.Connection) -> list[uuid.UUID]:
    """Drop rows whose doctor is gone or no longer verified (a rebuild's last step)."""
    rows = await con.fetch(
        """DELETE FROM search.doctor_index i
           WHERE NOT EXISTS (SELECT 1 FROM doctors.doctors d
                             WHERE d.id = i.doctor_id AND d.verification_status = 'verified')
           RETURNING doctor_id"""
    )
    return [r["doctor_id"] for r in rows]


async def set_availability(
    con: asyncpg.Connection | asyncpg.Pool,
    doctor_id: uuid.UUID,
    offers_in_person: bool,
    offers_teleconsultation: bool,
    next_in_person: datetime | None,
    next_teleconsultation: datetime | None,
    version: int,
    now: datetime,
) -> bool:
    """Store what scheduling says (checked at `now`); return whether anything changed."""
    changed = await con.fetchval(
        """WITH old AS (
               SELECT doctor_id, offers_in_person, offers_teleconsultation, next_in_person,
                      next_teleconsultation, availability_checked_at
               FROM search.doctor_index WHERE doctor_id = $1 FOR UPDATE)
           UPDATE search.doctor_index i
           SET offers_in_person = $2, offers_teleconsultation = $3,
               next_in_person = $4, next_teleconsultation = $5, availability_version = $6,
               availability_checked_at = $7
           FROM old WHERE i.doctor_id = old.doctor_id
           RETURNING (old.offers_in_person, old.offers_teleconsultation, old.next_in_person,
                      old.next_teleconsultation) IS DISTINCT FROM ($2, $3, $4, $5)
                     OR old.availability_checked_at IS NULL""",
        doctor_id,
        offers_in_person,
        offers_teleconsultation,
        next_in_person,
        next_teleconsultation,
        version,
        now,
    )
    return bool(changed)


async def availability_version(
    con: asyncpg.Connection | asyncpg.Pool, doctor_id: uuid.UUID
) -> int | None:
    """The scheduling version the row reflects; None when the doctor is not indexed."""
    version = await con.fetchval(
        "SELECT availability_version FROM search.doctor_index WHERE doctor_id = $1", doctor_id
    )
    return None if version is None else int(version)


async def doctor_ids_after(
    con: asyncpg.Connection | asyncpg.Pool, after: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    """A page of every doctor's id (verified or not), in id order, for rebuilds."""
    rows = await con.fetch(
        "SELECT id FROM doctors.doctors WHERE id > $1 ORDER BY id LIMIT $2", after, limit
    )
    return [r["id"] for r in rows]


async def count_doctors(con: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await con.fetchval("SELECT count(*) FROM doctors.doctors"))


async def count_indexed(con: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await con.fetchval("SELECT count(*) FROM search.doctor_index"))


async def index_rows(
    con: asyncpg.Connection | asyncpg.Pool, doctor_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            """SELECT doctor_id, first_name, last_name, specializations, city, postcode,
                      country, latitude, longitude, consultation_fee,
                      currency, rating, total_reviews, languages, accepts_new_patients,
                      profile_image_url, offers_in_person, offers_teleconsultation,
                      next_in_person, next_teleconsultation, next_available, time_zone,
                      first_key, last_key, city_key, specialty_key, bio_key
               FROM search.doctor_index WHERE doctor_id = ANY ($1::uuid[])""",
            list(doctor_ids),
        )
    )


async def index_rows_after(
    con: asyncpg.Connection | asyncpg.Pool, after: uuid.UUID, limit: int
) -> list[asyncpg.Record]:
    return list(
        await con.fetch(
            """SELECT doctor_id, first_name, last_name, specializations, city, postcode,
                      country, latitude, longitude, consultation_fee,
                      currency, rating, total_reviews, languages, accepts_new_patients,
                      profile_image_url, offers_in_person, offers_teleconsultation,
                      next_in_person, next_teleconsultation, next_available, time_zone,
                      first_key, last_key, city_key, specialty_key, bio_key
               FROM search.doctor_index WHERE doctor_id > $1
                ORDER BY doctor_id LIMIT $2""",
            after,
            limit,
        )
    )


async def ids_indexed_since(
    con: asyncpg.Connection | asyncpg.Pool, since: datetime
) -> list[uuid.UUID]:
    rows = await con.fetch(
        """SELECT doctor_id FROM search.doctor_index
           WHERE indexed_at >= $1 OR availability_checked_at >= $1""",
        since,
    )
    return [r["doctor_id"] for r in rows]


async def passed_next_slots(
    con: asyncpg.Connection | asyncpg.Pool, now: datetime, limit: int
) -> list[uuid.UUID]:
    """Doctors whose shown next free slot is already in the past: time moved, no event says so."""
    rows = await con.fetch(
        """SELECT doctor_id FROM search.doctor_index WHERE next_available < $1
           ORDER BY next_available LIMIT $2""",
        now,
        limit,
    )
    return [r["doctor_id"] for r in rows]


# scheduling.availability_versions (a contract table, read-only here) has a row for every doctor
# whose slots ever changed: a doctor without one has no availability, no need to ask.
async def clear_unscheduled(con: asyncpg.Connection | asyncpg.Pool, now: datetime) -> None:
    await con.execute(
        """UPDATE search.doctor_index i
           SET offers_in_person = false, offers_teleconsultation = false, next_in_person = NULL,
               next_teleconsultation = NULL, availability_version = 0,
               availability_checked_at = $1
           WHERE NOT EXISTS (SELECT 1 FROM scheduling.availability_versions v
                             WHERE v.doctor_id = i.doctor_id)
             AND (offers_in_person OR offers_teleconsultation OR next_in_person IS NOT NULL
                  OR next_teleconsultation IS NOT NULL)""",
        now,
    )


async def scheduled_ids_after(
    con: asyncpg.Connection | asyncpg.Pool, after: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    rows = await con.fetch(
        """SELECT i.doctor_id FROM search.doctor_index i
           JOIN scheduling.availability_versions v ON v.doctor_id = i.doctor_id
           WHERE i.doctor_id > $1 ORDER BY i.doctor_id LIMIT $2""",
        after,
        limit,
    )
    return [r["doctor_id"] for r in rows]


async def count_scheduled(con: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(
        await con.fetchval(
            """SELECT count(*) FROM search.doctor_index i
               JOIN scheduling.availability_versions v ON v.doctor_id = i.doctor_id"""
        )
    )
