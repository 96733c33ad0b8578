"""Favorite doctors: the patient's own list of public doctors; idempotent adds and removals."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user


async def test_patient_adds_lists_and_removes_favorites(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    first = await make_doctor(db, settings, last_name="Dubois")
    second = await make_doctor(db, settings, last_name="Gérard")
    base = f"/api/v1/patients/{patient.id}/favorites"
    headers = patient.user.headers
    # Double clicks race: still one entry each.
    results = await asyncio.gather(
        *(client.post(f"{base}/{d.id}", headers=headers) for d in (first, first, second, second))
    )
    assert [r.status_code for r in results] == [204] * 4
    listed = (await client.get(base, headers=headers)).json()
    assert sorted(d["last_name"] for d in listed) == ["Dubois", "Gérard"]
    assert listed[0]["rating"] == 0 and listed[0]["specializations"] == ["general-practice"]
    assert (await client.delete(f"{base}/{first.id}", headers=headers)).status_code == 204
    assert (await client.delete(f"{base}/{first.id}", headers=headers)).status_code == 204
    assert [d["id"] for d in (await client.get(base, headers=headers)).json()] == [str(second.id)]


async def test_only_public_doctors_can_be_favorites(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    hidden = await make_doctor(db, settings, verified=False)
    base = f"/api/v1/patients/{patient.id}/favorites"
    added = await client.post(f"{base}/{hidden.id}", headers=patient.user.headers)
    assert added.status_code == 404
    missing = await client.post(
        f"{base}/00000000-0000-0000-0000-000000000000", headers=patient.user.headers
    )
    assert missing.status_code == 404
    # A favorite whose doctor later loses verification drops out of the list.
    doctor = await make_doctor(db, settings)
    await client.post(f"{base}/{doctor.id}", headers=patient.user.headers)
    await db.execute(
        "UPDATE doctors.doctors SET verification_status = 'rejected' WHERE id = $1", doctor.id
    )
    assert (await client.get(base, headers=patient.user.headers)).json() == []


async def test_favorites_belong_to_the_patient_alone(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    other = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    base = f"/api/v1/patients/{patient.id}/favorites"
    assert (await client.post(f"{base}/{doctor.id}", headers=other.user.headers)).status_code == 404
    assert (
        await client.post(f"{base}/{doctor.id}", headers=doctor.user.headers)
    ).status_code == 404
    assert (await client.post(f"{base}/{doctor.id}", headers=admin.headers)).status_code == 403
    assert (await client.get(base, headers=other.user.headers)).status_code == 404
    assert (await client.get(base, headers=admin.headers)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM patients.favorite_doctors") == 0
