"""Person names and free text refuse C0 control characters (tab, LF and CR aside): a 422 naming
the field (`control_character`), nothing stored. They would come out in FHIR strings (which must
not hold them), mails, PDFs and SMS."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.factories import make_doctor, make_patient, make_user
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import child

pytestmark = pytest.mark.engines

CONTROLS = ["Ana\x0bBel", "Ana\x1fBel", "Ana\x01", "\x08Ana", "Ana\x0cBel"]


def refused(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, "control_character")], errors


@pytest.mark.parametrize("name", CONTROLS)
async def test_a_patient_name_with_a_control_character_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, name: str
) -> None:
    patient = await make_patient(db, settings)
    url = f"/api/v1/patients/{patient.id}"
    refused(
        await client.put(url, json={"first_name": name}, headers=patient.user.headers),
        "first_name",
    )
    assert (
        await db.fetchval("SELECT first_name FROM patients.patients WHERE id = $1", patient.id)
        == "Jeanne"
    )
    fresh = await make_user(db, settings, "patient")
    body = {"first_name": "Loïc", "last_name": name}
    refused(await client.post("/api/v1/patients", json=body, headers=fresh.headers), "last_name")
    assert (
        await db.fetchval("SELECT count(*) FROM patients.patients WHERE user_id = $1", fresh.id)
        == 0
    )


async def test_a_relative_an_account_or_a_doctor_named_with_one_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    parent = await make_patient(db, settings)
    added = await client.post(
        RELATIVES, json=child(first_name="Léa\x1f"), headers=parent.user.headers
    )
    refused(added, "first_name")
    assert (
        await db.fetchval(
            "SELECT count(*) FROM patients.relatives WHERE proxy_user_id = $1", parent.user.id
        )
        == 0
    )
    email = f"ctl-{uuid.uuid4().hex[:8]}@example.test"
    account = {
        "email": email,
        "password": "correct horse battery staple 9",
        "first_name": "Ana\x0b",
        "last_name": "Bel",
    }
    refused(await client.post("/api/v1/auth/register", json=account), "first_name")
    assert await db.fetchval("SELECT count(*) FROM auth.users WHERE email = $1", email) == 0
    doctor = await make_doctor(db, settings)
    change = {"bio": "Line one\nline two\twith a tab", "city": "Ly\x01on"}
    refused(
        await client.put(f"/api/v1/doctors/{doctor.id}", json=change, headers=doctor.user.headers),
        "city",
    )
    # Tab, LF and CR are text: a multi-line bio keeps them.
    kept = await client.put(
        f"/api/v1/doctors/{doctor.id}", json={"bio": change["bio"]}, headers=doctor.user.headers
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["bio"] == change["bio"] and kept.json()["city"] != "Ly\x01on"
