"""No input gives a 500: text PostgreSQL cannot store is a 422 naming the field, for any route."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.scheduling.helpers import booked, doctor_with_availability, local

PROBLEM = "application/problem+json"


def _refused(response: httpx.Response, field: str, location: str = "body") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert {"field": field, "location": location} in [
        {"field": e["field"], "location": e["location"]} for e in errors
    ]


async def _counts(db: asyncpg.Connection) -> tuple[Any, ...]:
    return (
        await db.fetchval("SELECT count(*) FROM auth.users"),
        await db.fetchval("SELECT count(*) FROM patients.patients"),
        await db.fetchval("SELECT string_agg(first_name, ',') FROM patients.patients"),
        await db.fetchval("SELECT string_agg(coalesce(bio, ''), ',') FROM doctors.doctors"),
        await db.fetchval("SELECT count(*) FROM bus.outbox"),
    )


@pytest.mark.parametrize("bad", ["A\x00B", "A\ud800B"])
async def test_register_with_a_nul_or_lone_surrogate_in_a_name_is_a_422(
    client: httpx.AsyncClient, db: asyncpg.Connection, bad: str
) -> None:
    before = await _counts(db)
    body = {
        "email": "n@example.test",
        "password": "correct horse battery",
        "first_name": bad,
        "last_name": "M",
    }
    response = await client.post(  # json.dumps escapes both as \\uXXXX, as a client would
        "/api/v1/auth/register",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    _refused(response, "first_name")
    assert await _counts(db) == before


async def test_profile_updates_with_a_nul_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    before = await _counts(db)
    response = await client.put(
        f"/api/v1/patients/{patient.id}",
        content=json.dumps({"first_name": "A\x00B"}),
        headers={**patient.user.headers, "Content-Type": "application/json"},
    )
    _refused(response, "first_name")
    response = await client.put(
        f"/api/v1/doctors/{doctor.id}",
        content=json.dumps({"bio": "hello\x00world"}),
        headers={**doctor.user.headers, "Content-Type": "application/json"},
    )
    _refused(response, "bio")
    assert await _counts(db) == before


async def test_a_nul_in_the_query_string_is_a_422(client: httpx.AsyncClient) -> None:
    _refused(await client.get("/api/v1/doctors", params={"q": "a\x00"}), "q", "query")


async def test_confirm_with_an_unstorable_body_changes_nothing_and_is_audited(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    appointment = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
    admin = await make_user(db, settings, "admin")
    unverified = await make_doctor(db, settings, verified=False)
    cases = [
        (f"/api/v1/appointments/{appointment['id']}/confirm", doctor.user.headers),
        (f"/api/v1/admin/doctors/{unverified.id}/verify", admin.headers),
    ]
    for url, headers in cases:
        for body in ('{"x": "\\ud800"}', '{"k\\u0000": 1}'):
            response = await client.post(
                url, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            _refused(response, "x" if "x" in body else "k\ufffd")
    status = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1", appointment["id"]
    )
    assert status == "scheduled"
    verification = await db.fetchval(
        "SELECT verification_status FROM doctors.doctors WHERE id = $1", unverified.id
    )
    assert verification != "verified"
    refused = await db.fetch(
        "SELECT action, response_status FROM audit.logs WHERE response_status = 422"
    )
    assert len(refused) == 4
