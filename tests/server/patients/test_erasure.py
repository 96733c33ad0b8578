"""GDPR erasure: identity and health data go, appointments stay, the account is closed."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.patients.helpers import audit_actions, make_appointment


async def test_patient_erases_own_record_in_one_go(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    base = f"/api/v1/patients/{patient.id}"
    headers = patient.user.headers
    await client.put(
        base,
        json={"date_of_birth": "1990-05-01", "insurance_info": {"provider": "MGEN"}},
        headers=headers,
    )
    await client.post(f"{base}/medical-history", json={"condition": "Asthma"}, headers=headers)
    await client.post(f"{base}/favorites/{doctor.id}", headers=headers)
    appointment_id = await make_appointment(db, doctor.id, patient.id, "completed")
    await db.execute(
        """INSERT INTO doctors.reviews (doctor_id, patient_id, appointment_id, rating, comment)
           VALUES ($1, $2, $3, 5, 'Dr Lefèvre soigne mon asthme depuis 2019, merci !')""",
        doctor.id,
        patient.id,
        appointment_id,
    )

    erased = await client.delete(base, headers=headers)
    assert erased.status_code == 204, erased.text

    row = await db.fetchrow("SELECT * FROM patients.patients WHERE id = $1", patient.id)
    assert (row["first_name"], row["last_name"]) == ("Erased", "Erased")
    assert row["user_id"] is None and row["erased_at"] is not None
    assert row["date_of_birth"] is None and row["phone"] is None and row["gender"] is None
    assert row["address"] == {} and row["insurance_info"] == {}
    for table in ("patients.medical_history", "patients.favorite_doctors"):
        count = await db.fetchval(f"SELECT count(*) FROM {table} WHERE patient_id = $1", patient.id)
        assert count == 0, table
    # The doctor's records keep the appointment and the rating, not who it was.
    kept = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1", appointment_id
    )
    assert kept == "completed"
    review = await db.fetchrow("SELECT rating, comment FROM doctors.reviews")
    assert (review["rating"], review["comment"]) == (5, "")
    user = await db.fetchrow(
        "SELECT is_active, email, password_hash FROM auth.users WHERE id = $1", patient.user.id
    )
    assert not user["is_active"] and user["email"].endswith("@erased.invalid")
    assert user["email"] != patient.user.email and user["password_hash"] == "!erased"
    live = await db.fetchval(
        "SELECT count(*) FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL",
        patient.user.id,
    )
    assert live == 0
    assert (await client.get("/api/v1/patients/me", headers=headers)).status_code == 401
    assert await db.fetchval("SELECT data FROM bus.outbox WHERE type = 'patient.deleted'") == {
        "patient_id": str(patient.id)
    }
    assert ("patient_profile.erase", "patient", 200) in await audit_actions(db, patient.id)


async def test_admin_erases_on_request_and_erased_record_is_gone_for_everyone(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    await make_appointment(db, doctor.id, patient.id, "confirmed")
    admin = await make_user(db, settings, "admin")
    base = f"/api/v1/patients/{patient.id}"
    assert (await client.delete(base, headers=admin.headers)).status_code == 204
    assert (await client.get(base, headers=admin.headers)).status_code == 404
    assert (await client.get(base, headers=doctor.user.headers)).status_code == 404
    assert (await client.delete(base, headers=admin.headers)).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM scheduling.appointments") == 1
    assert await db.fetchval("SELECT count(*) FROM bus.outbox WHERE type = 'patient.deleted'") == 1


async def test_erasure_by_anyone_else_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    other = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    await make_appointment(db, doctor.id, patient.id, "scheduled")
    base = f"/api/v1/patients/{patient.id}"
    assert (await client.delete(base)).status_code == 401
    assert (await client.delete(base, headers=other.user.headers)).status_code == 404
    assert (await client.delete(base, headers=doctor.user.headers)).status_code == 403
    row = await db.fetchrow(
        "SELECT first_name, user_id, erased_at FROM patients.patients WHERE id = $1", patient.id
    )
    assert row["first_name"] == "Jeanne" and row["user_id"] == patient.user.id
    assert await db.fetchval("SELECT is_active FROM auth.users WHERE id = $1", patient.user.id)
    assert await db.fetchval("SELECT count(*) FROM bus.outbox") == 0
