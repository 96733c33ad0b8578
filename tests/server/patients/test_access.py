"""Who sees a patient's record: the patient, their doctors (through an appointment), admins.

Everyone else gets 404, as for a record that does not exist; every access by someone other than
the patient, and every refused attempt, is in the audit trail.
"""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.patients.helpers import audit_actions, make_appointment

MISSING = "00000000-0000-0000-0000-000000000000"


async def test_other_patients_and_unrelated_doctors_cannot_tell_the_record_exists(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    other = await make_patient(db, settings)
    stranger = await make_doctor(db, settings)
    base = f"/api/v1/patients/{patient.id}"
    for caller in (other.user, stranger.user):
        for method, path, body in (
            ("GET", base, None),
            ("PUT", base, {"first_name": "Mallory"}),
            ("DELETE", base, None),
            ("GET", f"{base}/medical-history", None),
            ("POST", f"{base}/medical-history", {"condition": "planted"}),
            ("GET", f"{base}/favorites", None),
            ("POST", f"{base}/favorites/{stranger.id}", None),
        ):
            response = await client.request(method, path, json=body, headers=caller.headers)
            missing = await client.request(
                method, path.replace(str(patient.id), MISSING), json=body, headers=caller.headers
            )
            assert response.status_code == missing.status_code == 404, (caller.role, method, path)
            assert response.json()["title"] == missing.json()["title"]
    row = await db.fetchrow(
        "SELECT first_name, erased_at FROM patients.patients WHERE id = $1", patient.id
    )
    assert row["first_name"] == "Jeanne" and row["erased_at"] is None
    assert await db.fetchval("SELECT count(*) FROM patients.medical_history") == 0
    refusals = await audit_actions(db, patient.id)
    assert len(refusals) == 14 and all(status == 404 for _, _, status in refusals)
    assert ("medical_history.read", "doctor", 404) in refusals
    assert (await client.get(base)).status_code == 401


async def test_doctor_with_an_appointment_reads_profile_and_history_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    await make_appointment(db, doctor.id, patient.id, "completed")
    base = f"/api/v1/patients/{patient.id}"
    await client.post(
        f"{base}/medical-history", json={"condition": "Asthma"}, headers=patient.user.headers
    )
    profile = await client.get(base, headers=doctor.user.headers)
    assert profile.status_code == 200 and profile.json()["last_name"] == "Martin"
    history = await client.get(f"{base}/medical-history", headers=doctor.user.headers)
    assert history.status_code == 200
    assert [e["condition"] for e in history.json()["items"]] == ["Asthma"]
    written = await client.post(
        f"{base}/medical-history",
        json={"condition": "Seasonal allergy", "notes": "Cetirizine 10 mg"},
        headers=doctor.user.headers,
    )
    assert written.status_code == 201 and written.json()["created_by"] == str(doctor.user.id)
    # Seeing a record is not owning it: the doctor edits, erases and browses nothing else.
    assert (
        await client.put(base, json={"phone": None}, headers=doctor.user.headers)
    ).status_code == 403
    assert (await client.delete(base, headers=doctor.user.headers)).status_code == 403
    assert (await client.get(f"{base}/favorites", headers=doctor.user.headers)).status_code == 403
    assert await audit_actions(db, patient.id) == [
        ("medical_history.create", "patient", 200),
        ("patient_profile.read", "doctor", 200),
        ("medical_history.read", "doctor", 200),
        ("medical_history.create", "doctor", 200),
        ("patient_profile.update", "doctor", 403),
        ("patient_profile.erase", "doctor", 403),
        ("favorites.read", "doctor", 403),
    ]


async def test_cancelled_or_merely_held_appointments_grant_no_access(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    await make_appointment(db, doctor.id, patient.id, "cancelled")
    await make_appointment(db, doctor.id, patient.id, "held")
    base = f"/api/v1/patients/{patient.id}"
    assert (await client.get(base, headers=doctor.user.headers)).status_code == 404
    assert (
        await client.get(f"{base}/medical-history", headers=doctor.user.headers)
    ).status_code == 404
    # An appointment with another doctor opens nothing to this one either.
    colleague = await make_doctor(db, settings)
    await make_appointment(db, colleague.id, patient.id, "confirmed")
    assert (await client.get(base, headers=doctor.user.headers)).status_code == 404
    assert (await client.get(base, headers=colleague.user.headers)).status_code == 200


async def test_admin_sees_everything_audited_but_writes_no_medical_history(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    base = f"/api/v1/patients/{patient.id}"
    assert (await client.get(base, headers=admin.headers)).status_code == 200
    assert (await client.get(f"{base}/medical-history", headers=admin.headers)).status_code == 200
    assert (await client.get(f"{base}/favorites", headers=admin.headers)).status_code == 200
    fixed = await client.put(base, json={"last_name": "Martin-Roux"}, headers=admin.headers)
    assert fixed.status_code == 200 and fixed.json()["last_name"] == "Martin-Roux"
    refused = await client.post(
        f"{base}/medical-history", json={"condition": "x"}, headers=admin.headers
    )
    assert refused.status_code == 403
    assert await audit_actions(db, patient.id) == [
        ("patient_profile.read", "admin", 200),
        ("medical_history.read", "admin", 200),
        ("favorites.read", "admin", 200),
        ("patient_profile.update", "admin", 200),
        ("medical_history.create", "admin", 403),
    ]
    me = await client.get("/api/v1/patients/me", headers=admin.headers)
    assert me.status_code == 403
