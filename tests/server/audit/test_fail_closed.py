"""An access to health data or a change that cannot be audited does not happen (issue #16).

The audit store is made to refuse every row with a trigger in the test database; each change
must then be answered with a 503 problem and leave nothing behind (its row, its outbox events),
and a health-data read must return no data. Once the store accepts rows again, the same request
goes through with exactly one entry, written in the change's own transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import Doctor, Patient, make_doctor, make_patient, make_user
from tests.server.audit.helpers import accept_audit_rows, refuse_audit_rows
from tests.server.scheduling.helpers import book, booked, doctor_with_availability, local

CONFIRM = "POST /api/v1/appointments/{appointment_id}/confirm"


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "/problems/unavailable"


async def _state(db: asyncpg.Connection) -> tuple[Any, ...]:
    return (
        await db.fetchval("SELECT count(*) FROM bus.outbox"),
        await db.fetchval("SELECT count(*) FROM audit.logs"),
        await db.fetchval(
            "SELECT string_agg(status, ',' ORDER BY id) FROM scheduling.appointments"
        ),
    )


@pytest.fixture
async def appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> tuple[Doctor, Patient, dict[str, Any]]:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    return doctor, patient, await booked(client, patient, doctor, local(doctor, 3, "10:00"))


async def test_confirm_that_cannot_be_audited_changes_nothing(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    appointment: tuple[Doctor, Patient, dict[str, Any]],
) -> None:
    doctor, _, booking = appointment
    url = f"/api/v1/appointments/{booking['id']}/confirm"
    before = await _state(db)
    await refuse_audit_rows(db)
    _unavailable(await client.post(url, headers=doctor.user.headers))
    assert await _state(db) == before  # still scheduled, no event, no entry

    await accept_audit_rows(db)
    confirmed = await client.post(url, headers=doctor.user.headers)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    [entry] = await db.fetch(
        "SELECT user_id, resource_id, response_status FROM audit.logs WHERE action = $1", CONFIRM
    )
    assert tuple(entry) == (doctor.user.id, booking["id"], 200)


async def test_booking_that_cannot_be_audited_leaves_no_appointment(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    before = await _state(db)
    await refuse_audit_rows(db)
    _unavailable(await book(client, patient, doctor, local(doctor, 2, "11:00")))
    assert await _state(db) == before

    await accept_audit_rows(db)
    response = await book(client, patient, doctor, local(doctor, 2, "11:00"))
    assert response.status_code == 201  # the slot was never taken
    [entry] = await db.fetch(
        "SELECT resource_id FROM audit.logs WHERE action = 'POST /api/v1/appointments'"
    )
    assert entry["resource_id"] == response.json()["id"]


async def test_admin_verification_that_cannot_be_audited_does_not_verify(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    admin = await make_user(db, settings, "admin")
    doctor = await make_doctor(db, settings, verified=False)
    url = f"/api/v1/admin/doctors/{doctor.id}/verify"
    await refuse_audit_rows(db)
    _unavailable(await client.post(url, headers=admin.headers))
    status = "SELECT verification_status FROM doctors.doctors WHERE id = $1"
    assert await db.fetchval(status, doctor.id) != "verified"

    await accept_audit_rows(db)
    assert (await client.post(url, headers=admin.headers)).status_code == 200
    assert await db.fetchval(status, doctor.id) == "verified"
    assert await db.fetchval("SELECT count(*) FROM audit.logs") == 1


async def test_a_health_data_read_that_cannot_be_audited_returns_no_data(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    appointment: tuple[Doctor, Patient, dict[str, Any]],
) -> None:
    doctor, patient, booking = appointment
    await refuse_audit_rows(db)
    for who in (doctor.user, patient.user):
        response = await client.get(f"/api/v1/appointments/{booking['id']}", headers=who.headers)
        _unavailable(response)
        assert booking["id"] not in response.text
    history = await client.get(
        f"/api/v1/patients/{patient.id}/medical-history", headers=doctor.user.headers
    )
    _unavailable(history)


@pytest.mark.parametrize("body", ['{"x": "\\ud800"}', '{"k\\u0000": 1}'])
async def test_unstorable_bodies_are_refused_and_audited_or_nothing(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    appointment: tuple[Doctor, Patient, dict[str, Any]],
    body: str,
) -> None:
    """The issue's examples: a 4xx that changes nothing, with its entry; with no audit store,
    a 503 that changes nothing either."""
    doctor, _, booking = appointment
    url = f"/api/v1/appointments/{booking['id']}/confirm"
    headers = {**doctor.user.headers, "Content-Type": "application/json"}
    before = await _state(db)
    refused = await client.post(url, content=body, headers=headers)
    assert refused.status_code == 422
    outbox, entries, statuses = await _state(db)
    assert (outbox, statuses) == (before[0], before[2]) and entries == before[1] + 1
    await refuse_audit_rows(db)
    _unavailable(await client.post(url, content=body, headers=headers))
    assert await _state(db) == (outbox, entries, statuses)
