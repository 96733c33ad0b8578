"""A doctor's agenda carries what the doctor may see of each patient, read in the same query."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import booked, doctor_with_availability, local

URL = "/api/v1/appointments"


async def test_the_agenda_names_every_patient_even_beside_a_cancelled_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    staying = await make_patient(db, settings, first_name="Léa", last_name="Roux", phone="+331")
    leaving = await make_patient(db, settings, first_name="Hugo", last_name="Blanc", phone="+332")
    await db.execute(
        "UPDATE patients.patients SET date_of_birth = '1990-01-01' WHERE id = $1", staying.id
    )
    kept = await booked(client, staying, doctor, local(doctor, 3, "09:00"))
    gone = await booked(client, leaving, doctor, local(doctor, 3, "10:00"))
    cancel = await client.post(f"{URL}/{gone['id']}/cancel", headers=leaving.user.headers)
    assert cancel.status_code == 200, cancel.text

    response = await client.get(
        f"{URL}/doctor/{doctor.id}",
        params={"from": local(doctor, 3, "00:00").isoformat()},
        headers=doctor.user.headers,
    )

    assert response.status_code == 200, response.text
    by_id = {item["id"]: item["patient"] for item in response.json()["items"]}
    assert by_id[kept["id"]]["first_name"] == "Léa" and by_id[kept["id"]]["last_name"] == "Roux"
    assert by_id[kept["id"]]["phone"] == "+331" and by_id[kept["id"]]["first_visit"] is True
    assert isinstance(by_id[kept["id"]]["age"], int) and by_id[kept["id"]]["age"] >= 30
    # Who cancelled is still named; what only a booked appointment shows (age, phone) is not.
    assert by_id[gone["id"]]["first_name"] == "Hugo"
    assert by_id[gone["id"]]["phone"] is None and by_id[gone["id"]]["age"] is None
    # Elsewhere (the appointment itself, the patient's own list) there is no patient block.
    own = await client.get(f"{URL}/{kept['id']}", headers=staying.user.headers)
    assert own.json()["patient"] is None


async def test_a_patient_seen_before_is_no_first_visit(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    earlier = await booked(client, patient, doctor, local(doctor, 3, "09:00"))
    later = await booked(client, patient, doctor, local(doctor, 4, "09:00"))
    await db.execute(
        "UPDATE scheduling.appointments SET status = 'completed' WHERE id = $1",
        uuid.UUID(earlier["id"]),
    )

    response = await client.get(f"{URL}/doctor/{doctor.id}", headers=doctor.user.headers)

    by_id = {item["id"]: item["patient"] for item in response.json()["items"]}
    assert by_id[earlier["id"]]["first_visit"] is True
    assert by_id[later["id"]]["first_visit"] is False
