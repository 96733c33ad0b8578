"""Reviews: only after a completed appointment, once per appointment, average kept exact."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.patients.helpers import make_appointment


async def test_patient_reviews_a_completed_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    appointment = await make_appointment(db, doctor.id, patient.id, "completed")
    url = f"/api/v1/doctors/{doctor.id}/reviews"
    body = {"appointment_id": str(appointment), "rating": 4, "comment": "Très à l'écoute."}
    posted = await client.post(url, json=body, headers=patient.user.headers)
    assert posted.status_code == 201, posted.text
    assert posted.json()["average_rating"] == 4.0 and posted.json()["total_reviews"] == 1
    profile = (await client.get(f"/api/v1/doctors/{doctor.id}")).json()
    assert (profile["rating"], profile["total_reviews"]) == (4.0, 1)
    page = (await client.get(url)).json()
    assert page["total"] == 1 and page["items"][0]["comment"] == "Très à l'écoute."
    assert "patient_id" not in page["items"][0]
    event = await db.fetchrow("SELECT subject, data FROM bus.outbox WHERE type = 'doctor.reviewed'")
    assert event["subject"] == f"doctor:{doctor.id}"
    assert event["data"] == {
        "doctor_id": str(doctor.id),
        "review_id": posted.json()["review"]["id"],
        "rating": 4,
        "average_rating": 4.0,
        "total_reviews": 1,
    }


async def test_no_review_without_own_completed_appointment_with_that_doctor(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    colleague = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    other = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    upcoming = await make_appointment(db, doctor.id, patient.id, "confirmed")
    no_show = await make_appointment(db, doctor.id, patient.id, "no-show")
    elsewhere = await make_appointment(db, colleague.id, patient.id, "completed")
    others = await make_appointment(db, doctor.id, other.id, "completed")
    url = f"/api/v1/doctors/{doctor.id}/reviews"
    for appointment in (upcoming, no_show, elsewhere, others):
        body = {"appointment_id": str(appointment), "rating": 5}
        refused = await client.post(url, json=body, headers=patient.user.headers)
        assert refused.status_code == 403, appointment
        assert refused.json()["type"] == "/problems/review-not-allowed"
    body = {"appointment_id": str(others), "rating": 5}
    assert (await client.post(url, json=body)).status_code == 401
    assert (await client.post(url, json=body, headers=doctor.user.headers)).status_code == 403
    assert (await client.post(url, json=body, headers=admin.headers)).status_code == 403
    assert await db.fetchval("SELECT count(*) FROM doctors.reviews") == 0
    assert (
        await db.fetchval("SELECT total_reviews FROM doctors.doctors WHERE id = $1", doctor.id) == 0
    )


async def test_bad_reviews_and_hidden_doctors_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    appointment = str(await make_appointment(db, doctor.id, patient.id, "completed"))
    url = f"/api/v1/doctors/{doctor.id}/reviews"
    for rating in (0, 6, 4.5, "5", None):
        body = {"appointment_id": appointment, "rating": rating}
        response = await client.post(url, json=body, headers=patient.user.headers)
        assert response.status_code == 422, rating
    no_id = await client.post(url, json={"rating": 3}, headers=patient.user.headers)
    assert no_id.status_code == 422
    assert (await client.get(f"{url}?limit=0")).status_code == 422
    await db.execute(
        "UPDATE doctors.doctors SET verification_status = 'rejected' WHERE id = $1", doctor.id
    )
    body = {"appointment_id": appointment, "rating": 3}
    hidden = await client.post(url, json=body, headers=patient.user.headers)
    assert hidden.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM doctors.reviews") == 0


async def test_racing_reviews_of_one_appointment_leave_exactly_one(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    appointment = await make_appointment(db, doctor.id, patient.id, "completed")
    url = f"/api/v1/doctors/{doctor.id}/reviews"
    responses = await asyncio.gather(
        *(
            client.post(
                url,
                json={"appointment_id": str(appointment), "rating": r},
                headers=patient.user.headers,
            )
            for r in (1, 2, 3, 4, 5)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    row = await db.fetchrow(
        "SELECT rating, total_reviews FROM doctors.doctors WHERE id = $1", doctor.id
    )
    winner = next(r for r in responses if r.status_code == 201).json()["review"]["rating"]
    assert (row["rating"], row["total_reviews"]) == (Decimal(winner), 1)


async def test_concurrent_reviews_keep_average_and_count_exact(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    ratings = [5, 4, 4, 3, 5, 1, 2, 5, 4, 4, 3, 5]
    posts = []
    for rating in ratings:
        patient = await make_patient(db, settings)
        appointment = await make_appointment(db, doctor.id, patient.id, "completed")
        posts.append(
            client.post(
                f"/api/v1/doctors/{doctor.id}/reviews",
                json={"appointment_id": str(appointment), "rating": rating},
                headers=patient.user.headers,
            )
        )
    responses = await asyncio.gather(*posts)
    assert [r.status_code for r in responses] == [201] * len(ratings)
    row = await db.fetchrow(
        "SELECT rating, total_reviews FROM doctors.doctors WHERE id = $1", doctor.id
    )
    expected = (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"))
    assert (row["rating"], row["total_reviews"]) == (expected, len(ratings))
    # Each response saw a consistent tally: the counts 1..n each appear exactly once.
    assert sorted(r.json()["total_reviews"] for r in responses) == list(range(1, len(ratings) + 1))
    page = (await client.get(f"/api/v1/doctors/{doctor.id}/reviews?limit=5&offset=10")).json()
    assert page["total"] == len(ratings) and len(page["items"]) == 2
