"""Migration 0033 on a database where patients already wait for a city: their entries get the
folded city the waitlist now matches on, as storage/search/folding.py `fold` writes it."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from storage.migrate import migrate
from storage.search.folding import fold
from tests.conftest import EngineUrls
from tests.storage.migrated import database_before

CITY_KEYS = 33
CITIES = [
    "Saint-Étienne",
    "SAINT-ÉTIENNE",
    unicodedata.normalize("NFD", "Béziers"),
    "L’Haÿ-les-Roses",
    "Saint-Étienne-du-Rouvray",
]


@pytest.fixture
async def old_database(engine_urls: EngineUrls, tmp_path: Path) -> AsyncIterator[str]:
    """A database migrated up to just before 0033."""
    async with database_before(engine_urls, tmp_path, CITY_KEYS) as dsn:
        yield dsn


async def test_city_entries_made_before_the_migration_are_folded_by_it(old_database: str) -> None:
    con = await asyncpg.connect(old_database)
    at = datetime(2030, 3, 4, 9, tzinfo=UTC)
    try:
        for city in CITIES:
            patient_id = await con.fetchval(
                """INSERT INTO patients.patients (first_name, last_name, created_at, updated_at)
                   VALUES ('Léa', 'Martin', $1, $1) RETURNING id""",
                at,
            )
            await con.execute(
                """INSERT INTO waitlist.entries (id, patient_id, visit_type, earliest, latest,
                       created_at, updated_at, specialty, city)
                   VALUES ($1, $2, 'in-person', $3, $4, $3, $3, 'general-practice', $5)""",
                uuid.uuid4(),
                patient_id,
                at,
                at + timedelta(days=7),
                city,
            )

        assert (await migrate(old_database))[0] == CITY_KEYS  # later ones may follow

        rows = await con.fetch("SELECT city, city_key FROM waitlist.entries ORDER BY city")
        assert {r["city"]: r["city_key"] for r in rows} == {city: fold(city) for city in CITIES}
    finally:
        await con.close()
