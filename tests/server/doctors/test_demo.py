"""Demo seed of doctors and patients: hundreds of public doctors, idempotent on a second run."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg

from server.auth.demo import seed_users
from server.doctors.demo import DEMO_DOCTORS, seed_doctors
from server.engines import open_engines
from server.patients.demo import DEMO_PATIENTS, seed_patients
from server.settings import Settings


async def _counts(db: asyncpg.Connection) -> dict[str, int]:
    return {
        "doctors": await db.fetchval("SELECT count(*) FROM doctors.doctors"),
        "patients": await db.fetchval("SELECT count(*) FROM patients.patients"),
        "users": await db.fetchval("SELECT count(*) FROM auth.users"),
        "history": await db.fetchval("SELECT count(*) FROM patients.medical_history"),
        "favorites": await db.fetchval("SELECT count(*) FROM patients.favorite_doctors"),
        "events": await db.fetchval("SELECT count(*) FROM bus.outbox"),
    }


async def test_demo_seed_makes_a_realistic_directory_once(
    db: asyncpg.Connection, settings: Settings
) -> None:
    async with AsyncExitStack() as stack:
        engines = await open_engines(settings, stack)
        for step in (seed_users, seed_doctors, seed_patients):
            await step(engines)
        first = await _counts(db)
        for step in (seed_users, seed_doctors, seed_patients):
            await step(engines)
        assert await _counts(db) == first

    assert first["doctors"] == DEMO_DOCTORS + 1  # + doctor@markini.test
    assert first["patients"] == DEMO_PATIENTS + 1  # + patient@markini.test
    assert first["events"] == first["doctors"] + first["patients"]  # one *.created per profile
    assert first["favorites"] == 2 and first["history"] > 0
    spread = await db.fetchrow(
        """SELECT count(DISTINCT city) AS cities, count(DISTINCT time_zone) AS zones,
                  count(*) FILTER (WHERE verification_status <> 'verified') AS hidden,
                  count(*) FILTER (WHERE time_zone = 'America/New_York') AS new_york,
                  count(*) FILTER (WHERE time_zone = 'Europe/London') AS london,
                  count(*) FILTER (WHERE last_name ~ '[À-ÿ]' OR first_name ~ '[À-ÿ]') AS accented
           FROM doctors.doctors"""
    )
    assert spread["cities"] >= 10 and spread["zones"] >= 4 and spread["hidden"] == 0
    assert spread["new_york"] >= 1 and spread["london"] >= 1 and spread["accented"] > 50
    specialties = await db.fetchval(
        "SELECT count(DISTINCT s) FROM doctors.doctors, unnest(specializations) AS s"
    )
    assert specialties >= 20
    own = await db.fetchrow(
        """SELECT d.verification_status, u.is_verified FROM doctors.doctors d
           JOIN auth.users u ON u.id = d.user_id WHERE u.email = 'doctor@markini.test'"""
    )
    assert own["verification_status"] == "verified" and own["is_verified"]
    raw = await db.fetchval("SELECT string_agg(condition::text, '') FROM patients.medical_history")
    assert "Asthme" not in raw and "Migraine" not in raw
