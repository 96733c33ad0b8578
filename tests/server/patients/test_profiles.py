"""Patient profiles: one per account, partial edits, validation that changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_patient, make_user


async def test_patient_reads_and_edits_own_profile(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    me = await client.get("/api/v1/patients/me", headers=patient.user.headers)
    assert me.status_code == 200 and me.json()["id"] == str(patient.id)
    change = {
        "date_of_birth": "1987-04-12",
        "gender": "female",
        "address": {"line1": "3 place Bellecour", "city": "Lyon", "postcode": "69002"},
        "insurance_info": {"provider": "MGEN", "policy_number": "A-123"},
    }
    url = f"/api/v1/patients/{patient.id}"
    response = await client.put(url, json=change, headers=patient.user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["first_name"] == "Jeanne" and body["phone"] == "+33600000000"
    assert body["date_of_birth"] == "1987-04-12"
    assert body["address"]["city"] == "Lyon" and body["address"]["country"] == "FR"
    cleared = await client.put(url, json={"phone": None}, headers=patient.user.headers)
    assert cleared.json()["phone"] is None and cleared.json()["gender"] == "female"
    events = await db.fetch(
        "SELECT type, data FROM bus.outbox WHERE subject = $1", f"patient:{patient.id}"
    )
    assert [e["type"] for e in events] == ["patient.updated", "patient.updated"]
    assert events[0]["data"] == {"patient_id": str(patient.id)}
    # A patient's own profile reads and edits are not access to someone else's data: no entries.
    assert (
        await db.fetchval("SELECT count(*) FROM audit.logs WHERE action LIKE 'patient_profile.%'")
        == 0
    )


async def test_create_profile_once_per_patient_account(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    fresh = await make_user(db, settings, "patient")
    body = {"first_name": "Loïc", "last_name": "Girard", "phone": "+33611223344"}
    created = await client.post("/api/v1/patients", json=body, headers=fresh.headers)
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == str(fresh.id)
    assert await db.fetchval("SELECT type FROM bus.outbox") == "patient.created"
    again = await client.post("/api/v1/patients", json=body, headers=fresh.headers)
    assert again.status_code == 409
    registered = await make_patient(db, settings)  # sign-up already made a profile
    dup = await client.post("/api/v1/patients", json=body, headers=registered.user.headers)
    assert dup.status_code == 409 and dup.json()["type"] == "/problems/patient-exists"


async def test_only_patients_or_admins_create_patient_profiles(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_user(db, settings, "doctor")
    admin = await make_user(db, settings, "admin")
    account = await make_user(db, settings, "patient")
    body: dict[str, Any] = {"first_name": "Anaïs", "last_name": "Roux"}
    assert (await client.post("/api/v1/patients", json=body)).status_code == 401
    assert (
        await client.post("/api/v1/patients", json=body, headers=doctor.headers)
    ).status_code == 403
    for_doctor = await client.post(
        "/api/v1/patients", json={**body, "user_id": str(doctor.id)}, headers=admin.headers
    )
    assert for_doctor.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM patients.patients") == 0
    by_admin = await client.post(
        "/api/v1/patients", json={**body, "user_id": str(account.id)}, headers=admin.headers
    )
    assert by_admin.status_code == 201


BAD_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("national phone format", {"phone": "06 12 34 56 78"}),
    ("future birth date", {"date_of_birth": "2999-01-01"}),
    ("ancient birth date", {"date_of_birth": "1850-01-01"}),
    ("not a date", {"date_of_birth": "12/04/1987"}),
    ("unknown gender", {"gender": "robot"}),
    ("unknown address field", {"address": {"street": "x"}}),
    ("unknown insurance field", {"insurance_info": {"plan": "gold"}}),
    ("null first name", {"first_name": None}),
    ("empty last name", {"last_name": ""}),
    ("null address", {"address": None}),
    ("account move", {"user_id": "00000000-0000-0000-0000-000000000000"}),
]


async def test_each_bad_field_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    before = await db.fetchrow("SELECT * FROM patients.patients WHERE id = $1", patient.id)
    for label, change in BAD_FIELDS:
        response = await client.put(
            f"/api/v1/patients/{patient.id}", json=change, headers=patient.user.headers
        )
        assert response.status_code == 422, (label, response.text)
        assert response.json()["errors"], label
    after = await db.fetchrow("SELECT * FROM patients.patients WHERE id = $1", patient.id)
    assert dict(after) == dict(before)
    assert await db.fetchval("SELECT count(*) FROM bus.outbox") == 0
    malformed = await client.put(
        f"/api/v1/patients/{patient.id}",
        content=b"{not json",
        headers={**patient.user.headers, "content-type": "application/json"},
    )
    assert malformed.status_code == 400
