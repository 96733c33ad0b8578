"""Patient records (profile, history, favorites, erasure) store the app clock's instant."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.far_clock import far_clock


async def test_profile_history_favorites_and_erasure_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        patient = await make_patient(db, settings)
        doctor = await make_doctor(db, settings)
        base, headers = f"/api/v1/patients/{patient.id}", patient.user.headers
        edited = await client.put(base, json={"date_of_birth": "1990-05-01"}, headers=headers)
        assert edited.status_code == 200, edited.text
        history = await client.post(
            f"{base}/medical-history", json={"condition": "Asthma"}, headers=headers
        )
        assert history.status_code == 201, history.text
        favorite = await client.post(f"{base}/favorites/{doctor.id}", headers=headers)
        assert favorite.status_code in (200, 201, 204), favorite.text
        assert await db.fetchval("SELECT updated_at FROM patients.patients") == now
        assert await db.fetchval("SELECT created_at FROM patients.medical_history") == now
        assert await db.fetchval("SELECT created_at FROM patients.favorite_doctors") == now
        assert (await client.delete(base, headers=headers)).status_code == 204
    erased = await db.fetchrow("SELECT erased_at, updated_at FROM patients.patients")
    assert (erased["erased_at"], erased["updated_at"]) == (now, now)
    revoked = await db.fetchval(
        "SELECT revoked_at FROM auth.sessions WHERE user_id = $1", patient.user.id
    )
    assert revoked == now
