"""Demo reviews rest on completed visits, keep ratings exact, and are seeded once."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg

from server.doctors.demo_reviews import seed_reviews
from server.engines import open_engines
from server.seed import seed_demo
from server.settings import Settings


async def test_demo_reviews_match_completed_visits_and_ratings(
    settings: Settings, db: asyncpg.Connection
) -> None:
    async with AsyncExitStack() as stack:
        engines = await open_engines(settings, stack)
        await seed_demo(engines)
        first = await db.fetchval("SELECT count(*) FROM doctors.reviews")
        await seed_reviews(engines)
        assert await db.fetchval("SELECT count(*) FROM doctors.reviews") == first
    assert first > 20
    not_completed = await db.fetchval(
        """SELECT count(*) FROM doctors.reviews r
           JOIN scheduling.appointments a ON a.id = r.appointment_id
           WHERE a.status <> 'completed' OR a.doctor_id <> r.doctor_id
              OR a.patient_id <> r.patient_id"""
    )
    assert not_completed == 0
    drift = await db.fetchval(
        """SELECT count(*) FROM doctors.doctors d
           LEFT JOIN (SELECT doctor_id, round(avg(rating), 2) AS average, count(*) AS total
                      FROM doctors.reviews GROUP BY doctor_id) r ON r.doctor_id = d.id
           WHERE d.total_reviews <> coalesce(r.total, 0) OR d.rating <> coalesce(r.average, 0)"""
    )
    assert drift == 0
