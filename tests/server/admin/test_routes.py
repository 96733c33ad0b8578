"""Admin API: every route refused to non-admins; users, verification queue, chain, health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import User, make_appointment, make_doctor, make_patient, make_user

pytestmark = pytest.mark.engines

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/admin/users", None),
    ("POST", "/api/v1/admin/users/{id}/suspend", {}),
    ("POST", "/api/v1/admin/users/{id}/reactivate", None),
    ("PUT", "/api/v1/admin/users/{id}/role", {"role": "doctor"}),
    ("GET", "/api/v1/admin/verification-queue", None),
    ("POST", "/api/v1/admin/audit/verify", None),
    ("GET", "/api/v1/admin/health", None),
    ("POST", "/api/v1/admin/step-up", {"password": "x"}),
    ("GET", "/api/v1/admin/audit", None),
]


@pytest.fixture
async def admin(db: asyncpg.Connection, settings: Settings) -> User:
    return await make_user(db, settings, "admin")


async def _call(
    client: httpx.AsyncClient, route: tuple[str, str, dict[str, Any] | None], target: str, **kw: Any
) -> httpx.Response:
    method, path, body = route
    return await client.request(method, path.format(id=target), json=body, **kw)


async def test_every_admin_route_is_refused_to_non_admins_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    patient = await make_user(db, settings, "patient")
    doctor = await make_doctor(db, settings)
    before = await db.fetch("SELECT id, role, is_active FROM auth.users ORDER BY id")
    for route in ROUTES:
        anonymous = await _call(client, route, str(patient.id))
        assert anonymous.status_code == 401, route
        for caller in (patient, doctor.user):
            refused = await _call(client, route, str(patient.id), headers=caller.headers)
            assert refused.status_code == 403, (route, caller.role)
            assert refused.headers["content-type"] == "application/problem+json"
    assert await db.fetch("SELECT id, role, is_active FROM auth.users ORDER BY id") == before


async def test_search_filters_by_text_role_and_state_with_keyset_pages(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, admin: User
) -> None:
    patients = [await make_patient(db, settings) for _ in range(3)]
    await db.execute("UPDATE auth.users SET is_active = false WHERE id = $1", patients[0].user.id)
    url = "/api/v1/admin/users"

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"role": "patient", "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(url, params=params, headers=admin.headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += [item["email"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(p.user.email for p in patients)

    suspended = await client.get(url, params={"active": "false"}, headers=admin.headers)
    assert [u["id"] for u in suspended.json()["items"]] == [str(patients[0].user.id)]
    by_text = await client.get(
        url, params={"q": patients[1].user.email[3:12].upper()}, headers=admin.headers
    )
    assert [u["id"] for u in by_text.json()["items"]] == [str(patients[1].user.id)]
    assert by_text.json()["items"][0]["name"]  # the patient's name from the profile

    for bad in ({"cursor": "nope"}, {"role": "root"}, {"limit": 0}, {"colour": "red"}):
        refused = await client.get(url, params=bad, headers=admin.headers)
        assert refused.status_code == 422, bad


async def test_suspend_revokes_sessions_evented_and_audited_then_reactivate(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, admin: User
) -> None:
    patient = await make_user(db, settings, "patient")
    assert (await client.get("/api/v1/auth/me", headers=patient.headers)).status_code == 200

    answer = await client.post(
        f"/api/v1/admin/users/{patient.id}/suspend",
        json={"reason": "abusive messages"},
        headers=admin.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["is_active"] is False
    assert answer.json()["sessions_revoked"] == 1
    assert (await client.get("/api/v1/auth/me", headers=patient.headers)).status_code == 401
    event = await db.fetchrow(
        "SELECT actor, data FROM bus.outbox WHERE type = 'user.suspended' AND subject = $1",
        f"user:{patient.id}",
    )
    assert event is not None and event["actor"] == str(admin.id)
    audited = await db.fetchrow(
        "SELECT user_id, response_status FROM audit.logs WHERE resource_id = $1 AND action = $2",
        str(patient.id),
        "POST /api/v1/admin/users/{user_id}/suspend",
    )
    assert audited is not None and audited["user_id"] == admin.id

    back = await client.post(f"/api/v1/admin/users/{patient.id}/reactivate", headers=admin.headers)
    assert back.status_code == 200 and back.json()["is_active"] is True
    assert await db.fetchval("SELECT count(*) FROM bus.outbox WHERE type = 'user.reactivated'")

    myself = await client.post(f"/api/v1/admin/users/{admin.id}/suspend", headers=admin.headers)
    assert myself.status_code == 409
    missing = "00000000-0000-4000-8000-000000000000"
    gone = await client.post(f"/api/v1/admin/users/{missing}/suspend", headers=admin.headers)
    assert gone.status_code == 404


async def test_role_change_is_audited_with_its_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, admin: User
) -> None:
    user = await make_user(db, settings, "patient")
    changed = await client.put(
        f"/api/v1/admin/users/{user.id}/role", json={"role": "admin"}, headers=admin.headers
    )
    assert changed.status_code == 200 and changed.json()["role"] == "admin"
    event = await db.fetchrow("SELECT data FROM bus.outbox WHERE type = 'user.role_changed'")
    assert event is not None
    assert (event["data"]["old_role"], event["data"]["new_role"]) == ("patient", "admin")
    entry = await db.fetchrow(
        """SELECT request_payload, response_status FROM audit.logs
           WHERE action = 'PUT /api/v1/admin/users/{user_id}/role' AND resource_id = $1""",
        str(user.id),
    )
    assert entry is not None and entry["request_payload"] == {"role": "admin"}
    # The account signs in again under its new role.
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 401
    bad = await client.put(
        f"/api/v1/admin/users/{user.id}/role", json={"role": "root"}, headers=admin.headers
    )
    assert bad.status_code == 422


async def test_verification_queue_lists_unverified_doctors_with_their_licence(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, admin: User
) -> None:
    waiting = await make_doctor(db, settings, verified=False)
    await make_doctor(db, settings, verified=True)
    queue = await client.get("/api/v1/admin/verification-queue", headers=admin.headers)
    assert [(d["id"], d["license_number"]) for d in queue.json()["items"]] == [
        (str(waiting.id), waiting.fields["license_number"])
    ]
    verified = await client.post(
        f"/api/v1/admin/doctors/{waiting.id}/verify", headers=admin.headers
    )
    assert verified.status_code == 200
    queue = await client.get("/api/v1/admin/verification-queue", headers=admin.headers)
    assert queue.json()["items"] == []


async def test_verify_the_chain_needs_a_recent_step_up_and_reports_tampering(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: User
) -> None:
    url = "/api/v1/admin/audit/verify"
    intact = await client.post(url, headers=admin.headers)
    assert intact.status_code == 200 and intact.json()["ok"] is True
    assert intact.json()["summary"].startswith("OK:")

    await db.execute("SELECT audit.seal(1000, $1)", clock.now())
    await db.execute("ALTER TABLE audit.logs DISABLE TRIGGER logs_append_only")
    await db.execute("UPDATE audit.logs SET action = 'forged' WHERE seq = 1")
    await db.execute("ALTER TABLE audit.logs ENABLE TRIGGER logs_append_only")
    broken = (await client.post(url, headers=admin.headers)).json()
    assert broken["ok"] is False and broken["broken_seq"] == 1
    assert broken["summary"].startswith("BROKEN at seq 1")

    stale = clock.now() - timedelta(minutes=5, seconds=1)
    await db.execute(
        "UPDATE auth.sessions SET reauthenticated_at = $2 WHERE id = $1", admin.session_id, stale
    )
    refused = await client.post(url, headers=admin.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/step-up-required"


async def test_health_reports_engines_lags_and_sockets(
    client: httpx.AsyncClient, admin: User
) -> None:
    health = await client.get("/api/v1/admin/health", headers=admin.headers)
    assert health.status_code == 200, health.text
    body = health.json()
    engines = {e["name"]: e["ok"] for e in body["engines"]}
    assert engines["postgresql"] is True and engines["nats"] is True
    assert set(body["sockets"]) == {"/availability", "/agenda", "/notifications", "/consult"}
    assert body["outbox_pending"] >= 0 and body["audit_unsealed"] >= 0
    assert all(c["pending"] >= 0 for c in body["consumers"])


async def test_an_admin_reads_health_data_only_after_a_recent_step_up(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, admin: User
) -> None:
    patient = await make_patient(db, settings)
    doctor = await make_doctor(db, settings)
    visit = await make_appointment(db, doctor, patient, clock.now() + timedelta(days=2))
    stale = clock.now() - timedelta(minutes=6)
    await db.execute(
        "UPDATE auth.sessions SET reauthenticated_at = $2 WHERE id = $1", admin.session_id, stale
    )
    # Appointments are health data too (who sees which doctor, when, why): every admin read of
    # them, through REST, FHIR or GraphQL, asks for the step-up.
    for url in (
        f"/api/v1/patients/{patient.id}",
        f"/api/v1/patients/{patient.id}/medical-history",
        f"/fhir/R4/Patient/{patient.id}",
        f"/api/v1/appointments/{visit}",
        f"/api/v1/appointments/patient/{patient.id}",
        f"/api/v1/appointments/doctor/{doctor.id}",
        f"/fhir/R4/Appointment/{visit}",
        f"/fhir/R4/Appointment?patient=Patient/{patient.id}",
        f"/fhir/R4/Appointment?practitioner=Practitioner/{doctor.id}",
    ):
        refused = await client.get(url, headers=admin.headers)
        assert refused.status_code == 403, url
        assert "step-up-required" in refused.text, url
    for query in (
        f'{{ appointment(id: "{visit}") {{ id }} }}',
        f'{{ patient(id: "{patient.id}") {{ id }} }}',
        f'{{ doctor(id: "{doctor.id}") {{ appointments {{ id }} }} }}',
    ):
        answer = await client.post("/graphql", json={"query": query}, headers=admin.headers)
        assert "step-up-required" in answer.text, query
    refusals = await db.fetchval(
        """SELECT count(*) FROM audit.logs
           WHERE user_id = $1 AND response_status = 403 AND action IN ('appointment.read',
                 'appointments.list', 'agenda.list')""",
        admin.id,
    )
    assert refusals >= 3

    await db.execute(
        "UPDATE auth.sessions SET reauthenticated_at = $2 WHERE id = $1",
        admin.session_id,
        clock.now(),
    )
    for url in (
        f"/api/v1/patients/{patient.id}",
        f"/api/v1/appointments/{visit}",
        f"/api/v1/appointments/doctor/{doctor.id}",
        f"/fhir/R4/Appointment/{visit}",
    ):
        assert (await client.get(url, headers=admin.headers)).status_code == 200, url
