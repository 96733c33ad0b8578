"""Demo reviews: most completed demo visits get a rating, so search and doctor pages look lived in.

Runs after the scheduling seed (it needs completed appointments); idempotent: visits already
reviewed are skipped. Ratings are kept exact by recomputing them from the reviews.
"""

from __future__ import annotations

import random
import uuid

from bus.events import DOCTOR_UPDATED
from server import clock
from server.doctors.events import emit_changed
from server.engines import Engines
from storage import demo as store

REVIEWED_SHARE = 0.6
RATINGS = (5, 4, 3, 2, 1)
RATING_WEIGHTS = (45, 35, 12, 5, 3)
COMMENTS = {
    5: ("Très à l'écoute, explications claires.", "Excellent doctor, took the time to explain."),
    4: ("Consultation efficace, un peu d'attente.", "Good visit, started a little late."),
    3: ("Correct, mais rapide.", "Fine, though the visit felt rushed."),
    2: ("Retard important sans prévenir.", "Long wait and little time for questions."),
    1: ("Rendez-vous écourté, déçu.", "Disappointing visit."),
}


async def seed_reviews(engines: Engines) -> None:
    async with engines.pool.acquire() as con, con.transaction():
        await store.lock_seed(con)
        reviews = []
        for visit in await store.completed_unreviewed_appointments(con):
            rng = random.Random(visit["id"].int)  # the same visit gets the same review every run
            if rng.random() > REVIEWED_SHARE:
                continue
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            comment = rng.choice(COMMENTS[rating])
            reviews.append(
                (
                    visit["doctor_id"],
                    visit["patient_id"],
                    visit["id"],
                    rating,
                    comment,
                    visit["ends_at"],
                )
            )
        if not reviews:
            return
        await store.insert_demo_reviews(con, reviews)
        doctor_ids: list[uuid.UUID] = sorted({review[0] for review in reviews})
        await store.refresh_ratings(con, doctor_ids, clock.now())
        for doctor_id in doctor_ids:  # the search index re-reads rating and review count
            await emit_changed(con, DOCTOR_UPDATED, doctor_id)
