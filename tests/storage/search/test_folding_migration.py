"""Migration 0015 on a database that already has indexed doctors: their folded keys, document,
vocabulary and time zone are filled in, so search keeps finding them before the next reindex."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from storage.migrate import migrate
from tests.conftest import EngineUrls
from tests.storage.migrated import database_before

FOLDING = 15


@pytest.fixture
async def old_database(engine_urls: EngineUrls, tmp_path: Path) -> AsyncIterator[str]:
    """A database migrated up to just before 0015."""
    async with database_before(engine_urls, tmp_path, FOLDING) as dsn:
        yield dsn


async def test_rows_indexed_before_the_migration_are_folded_by_it(old_database: str) -> None:
    con = await asyncpg.connect(old_database)
    try:
        user_id = await con.fetchval(
            """INSERT INTO auth.users (email, password_hash, role, is_verified)
               VALUES ('fold@migration.test', '!unusable', 'doctor', true) RETURNING id"""
        )
        doctor_id = await con.fetchval(
            """INSERT INTO doctors.doctors (user_id, first_name, last_name, specializations,
                   license_number, consultation_fee, city, postcode, verification_status,
                   time_zone)
               VALUES ($1, $2, 'D''Arc', '{pediatrics}', 'LIC-FOLD-1', 3000, 'Saint-Étienne',
                       '42000', 'verified', 'America/New_York')
               RETURNING id""",
            user_id,
            unicodedata.normalize("NFD", "Hélène"),
        )
        await con.execute(
            """INSERT INTO search.doctor_index (doctor_id, first_name, last_name, specializations,
                   specialization_names, bio, city, postcode, country, consultation_fee,
                   currency, rating, total_reviews, languages, accepts_new_patients)
               SELECT id, first_name, last_name, specializations, 'Pediatrics Pédiatrie', '',
                      city, postcode, country, consultation_fee, currency, rating,
                      total_reviews, languages, accepts_new_patients
               FROM doctors.doctors WHERE id = $1""",
            doctor_id,
        )

        assert (await migrate(old_database))[0] == FOLDING  # later ones may follow

        row = await con.fetchrow(
            """SELECT first_key, last_key, city_key, specialty_key, time_zone,
                      document @@ to_tsquery('simple', 'helene & saint & etienne & pediatrie')
                          AS found
               FROM search.doctor_index WHERE doctor_id = $1""",
            doctor_id,
        )
        assert dict(row) == {
            "first_key": "helene",
            "last_key": "d arc",
            "city_key": "saint etienne",
            "specialty_key": "pediatrics pediatrie",
            "time_zone": "America/New_York",
            "found": True,
        }
        words = {r["word"] for r in await con.fetch("SELECT word FROM search.words")}
        assert {"helene", "d", "arc", "saint", "etienne", "pediatrie"} <= words
    finally:
        await con.close()
