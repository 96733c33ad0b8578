"""Authorization per role: patients see their own, doctors their agenda, admins everything."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import booked, doctor_with_availability, local

URL = "/api/v1/appointments"


async def test_an_appointment_is_visible_to_its_parties_and_admins_only(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    other_doctor = await make_doctor(db, settings)
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    appointment = await booked(client, patient, doctor, local(doctor, 2, "10:00"), notes="Rash")
    url = f"{URL}/{appointment['id']}"

    for user in (patient.user, doctor.user, admin):
        response = await client.get(url, headers=user.headers)
        assert response.status_code == 200 and response.json()["notes"] == "Rash"
    for user in (other_patient.user, other_doctor.user):
        hidden = await client.get(url, headers=user.headers)
        missing = await client.get(f"{URL}/{uuid.uuid4()}", headers=user.headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"] == missing.json()["detail"]  # existence never leaks
        for action in ("cancel", "confirm"):
            assert (await client.post(f"{url}/{action}", headers=user.headers)).status_code == 404
        assert (await client.put(url, json={"notes": "x"}, headers=user.headers)).status_code == 404
        assert (await client.delete(url, headers=user.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{URL}/not-an-id", headers=admin.headers)).status_code == 422
    reads = await db.fetch(
        """SELECT user_id, response_status FROM audit.logs
           WHERE action = 'appointment.read' AND resource_id = $1 ORDER BY append_id""",
        appointment["id"],
    )
    assert [r["response_status"] for r in reads] == [200, 200, 200, 404, 404]
    assert reads[3]["user_id"] == other_patient.user.id


async def test_lists_per_patient_and_per_doctor_respect_roles_and_filters(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, other_doctor = [await doctor_with_availability(client, db, settings) for _ in range(2)]
    patient, other_patient = await make_patient(db, settings), await make_patient(db, settings)
    admin = await make_user(db, settings, "admin")
    first = await booked(client, patient, doctor, local(doctor, 2, "10:00"))
    await booked(client, patient, other_doctor, local(doctor, 3, "10:00"))
    await booked(client, patient, doctor, local(doctor, 4, "10:00"))
    await client.post(f"{URL}/{first['id']}/cancel", headers=patient.user.headers)
    by_patient = f"{URL}/patient/{patient.id}"

    own = (await client.get(by_patient, headers=patient.user.headers)).json()
    assert own["total"] == 3 and [a["start"][:10] for a in own["items"]] == sorted(
        a["start"][:10] for a in own["items"]
    )
    active = await client.get(
        by_patient,
        params={"status": ["scheduled", "confirmed"], "limit": 1, "offset": 1},
        headers=patient.user.headers,
    )
    assert active.json()["total"] == 2 and len(active.json()["items"]) == 1
    ranged = await client.get(
        by_patient,
        params={
            "from": local(doctor, 3, "00:00").isoformat(),
            "to": local(doctor, 4, "00:00").isoformat(),
        },
        headers=patient.user.headers,
    )
    assert ranged.json()["total"] == 1
    seen_by_doctor = (await client.get(by_patient, headers=doctor.user.headers)).json()
    assert seen_by_doctor["total"] == 2
    assert {a["doctor_id"] for a in seen_by_doctor["items"]} == {str(doctor.id)}
    assert (await client.get(by_patient, headers=other_patient.user.headers)).status_code == 403
    assert (await client.get(by_patient, headers=admin.headers)).json()["total"] == 3
    unknown = await client.get(f"{URL}/patient/{uuid.uuid4()}", headers=admin.headers)
    assert unknown.status_code == 404

    agenda = f"{URL}/doctor/{doctor.id}"
    assert (await client.get(agenda, headers=doctor.user.headers)).json()["total"] == 2
    assert (await client.get(agenda, headers=admin.headers)).json()["total"] == 2
    for user in (other_doctor.user, patient.user):
        assert (await client.get(agenda, headers=user.headers)).status_code == 403
    bad = await client.get(agenda, params={"status": "lost"}, headers=doctor.user.headers)
    assert bad.status_code == 422
    backwards = await client.get(
        agenda,
        params={
            "from": local(doctor, 3, "00:00").isoformat(),
            "to": local(doctor, 1, "00:00").isoformat(),
        },
        headers=doctor.user.headers,
    )
    assert backwards.status_code == 422
