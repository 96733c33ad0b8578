"""Self-registration of patients and doctors."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from server import clock
from server.auth.service import set_verified
from server.errors import NotFound
from tests.server.auth.conftest import API, PASSWORD, login, new_email, register, snapshot


async def test_patient_registration_creates_account_profile_and_events(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email = new_email()
    data = await register(client, f"  {email.upper()} ", first_name="Ana", last_name="Diaz")

    user = data["user"]
    assert user["email"] == email  # normalised: trimmed, lower case
    assert user["role"] == "patient" and user["mfa_enabled"] is False
    stored = await db.fetchrow(
        "SELECT password_hash, role FROM auth.users WHERE id = $1", user["id"]
    )
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in stored["password_hash"]
    profile = await db.fetchrow(
        "SELECT id, first_name, last_name FROM patients.patients WHERE user_id = $1", user["id"]
    )
    assert str(profile["id"]) == data["patient_id"]
    assert (profile["first_name"], profile["last_name"]) == ("Ana", "Diaz")
    events = await db.fetch("SELECT type, subject, data, actor FROM bus.outbox ORDER BY seq")
    assert [e["type"] for e in events] == ["user.registered", "patient.created"]
    assert events[0]["data"] == {"user_id": user["id"], "role": "patient"}
    assert events[1]["subject"] == f"patient:{profile['id']}"
    assert {e["actor"] for e in events} == {user["id"]}


async def test_doctor_registers_unverified_without_patient_profile(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    data = await register(client, role="doctor")
    assert data["user"]["role"] == "doctor"
    assert data["user"]["is_verified"] is False
    assert data["patient_id"] is None
    assert await db.fetchval("SELECT count(*) FROM patients.patients") == 0
    # The doctors domain verifies them later, inside its own transaction.
    async with db.transaction():
        await set_verified(db, uuid.UUID(data["user"]["id"]), True, clock.now())
    tokens = await login(client, data["user"]["email"])
    assert tokens["user"]["is_verified"] is True
    with pytest.raises(NotFound):
        await set_verified(db, uuid.uuid4(), True, clock.now())


async def test_nobody_self_registers_as_admin(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    before = await snapshot(db)
    response = await client.post(
        f"{API}/register", json={"email": new_email(), "password": PASSWORD, "role": "admin"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    assert await snapshot(db) == before


async def test_duplicate_email_in_any_case_is_a_conflict(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email = new_email()
    await register(client, email)
    before = await snapshot(db)
    response = await client.post(
        f"{API}/register",
        json={"email": email.upper(), "password": PASSWORD, "role": "doctor"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/email-taken"
    assert await snapshot(db) == before


async def test_concurrent_registrations_of_one_email_create_one_account(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email = new_email()
    body = {"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"}
    responses = await asyncio.gather(*(client.post(f"{API}/register", json=body) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert await db.fetchval("SELECT count(*) FROM auth.users") == 1
    assert await db.fetchval("SELECT count(*) FROM patients.patients") == 1
    assert await db.fetchval("SELECT count(*) FROM bus.outbox") == 2


async def test_bad_email_is_a_field_error_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    before = await snapshot(db)
    for bad in ("not-an-email", "a@b", "x@@example.test", ""):
        response = await client.post(
            f"{API}/register",
            json={"email": bad, "password": PASSWORD, "first_name": "A", "last_name": "B"},
        )
        assert response.status_code == 422, bad
        assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert await snapshot(db) == before


async def test_weak_passwords_are_refused_with_reasons(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    before = await snapshot(db)
    cases = {
        "short1": "string_too_short",
        "aaaaaaaaaaaa": "password_too_simple",
        "password123": "password_too_common",
        "x" * 200: "string_too_long",
    }
    for password, code in cases.items():
        response = await client.post(
            f"{API}/register",
            json={"email": new_email(), "password": password, "first_name": "A", "last_name": "B"},
        )
        assert response.status_code == 422, password
        errors = response.json()["errors"]
        assert {e["field"] for e in errors} == {"password"}
        assert code in {e["code"] for e in errors}
    response = await client.post(
        f"{API}/register",
        json={
            "email": "jeanne.martin@example.test",
            "password": "jeanne.martin-2024",
            "first_name": "A",
            "last_name": "B",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "password_contains_email"
    assert await snapshot(db) == before


async def test_patient_needs_a_name_and_unknown_fields_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    before = await snapshot(db)
    nameless = await client.post(
        f"{API}/register", json={"email": new_email(), "password": PASSWORD}
    )
    assert nameless.status_code == 422
    assert {e["field"] for e in nameless.json()["errors"]} == {"first_name", "last_name"}
    extra = await client.post(
        f"{API}/register",
        json={
            "email": new_email(),
            "password": PASSWORD,
            "first_name": "A",
            "last_name": "B",
            "is_verified": True,
        },
    )
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "is_verified"
    assert await snapshot(db) == before
