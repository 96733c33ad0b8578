"""Joining, listing and leaving the waitlist; what is refused, and the doctor's count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import booked, doctor_with_availability, local
from tests.server.waitlist.helpers import WAITLIST, entries, join, offer_for


async def test_join_list_leave_and_count(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    entry = await join(client, patient, doctor, weekdays=[1, 3], day_from="08:00")
    assert entry["status"] == "waiting" and entry["weekdays"] == [1, 3]

    count_url = f"{WAITLIST}/doctors/{doctor.id}/count"
    counted = await client.get(count_url, headers=doctor.user.headers)
    assert counted.json() == {"doctor_id": str(doctor.id), "waiting": 1}
    assert (await client.get(count_url, headers=patient.user.headers)).status_code == 404

    twice = await client.post(
        WAITLIST,
        json={k: entry[k] for k in ("doctor_id", "visit_type", "earliest", "latest")},
        headers=patient.user.headers,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already-waiting"

    left = await client.delete(f"{WAITLIST}/{entry['id']}", headers=patient.user.headers)
    assert left.status_code == 204
    assert await entries(client, patient) == []
    gone = await client.delete(f"{WAITLIST}/{entry['id']}", headers=patient.user.headers)
    assert gone.status_code == 404
    assert (await client.get(count_url, headers=doctor.user.headers)).json()["waiting"] == 0


async def test_bad_entries_are_refused_and_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    now = clock.now()
    base = {"doctor_id": str(doctor.id), "visit_type": "in-person"}
    backwards = {**base, "earliest": now.isoformat(), "latest": (now - timedelta(1)).isoformat()}
    answer = await client.post(WAITLIST, json=backwards, headers=patient.user.headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "window-order"
    window = {"earliest": now.isoformat(), "latest": (now + timedelta(days=2)).isoformat()}
    unknown = {**base, **window, "doctor_id": str(uuid.uuid4())}
    assert (
        await client.post(WAITLIST, json=unknown, headers=patient.user.headers)
    ).status_code == 404
    as_doctor = await client.post(WAITLIST, json={**base, **window}, headers=doctor.user.headers)
    assert as_doctor.status_code == 403
    stranger = await make_patient(db, settings)
    theirs = await booked(client, stranger, doctor, local(doctor, 5, "10:00"))
    moving = {**base, **window, "replaces_appointment_id": theirs["id"]}
    answer = await client.post(WAITLIST, json=moving, headers=patient.user.headers)
    assert answer.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM waitlist.entries") == 0


async def test_leaving_with_an_open_offer_passes_it_on(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    first, second, canceller = [await make_patient(db, settings) for _ in range(3)]
    taken = await booked(client, canceller, doctor, local(doctor, 2, "16:00"))
    entry = await join(client, first, doctor)
    await join(client, second, doctor)
    await client.delete(f"/api/v1/appointments/{taken['id']}", headers=canceller.user.headers)
    offered = await offer_for(client, first)

    left = await client.delete(f"{WAITLIST}/{entry['id']}", headers=first.user.headers)
    assert left.status_code == 204
    assert (await offer_for(client, second))["start"] == offered["start"]
