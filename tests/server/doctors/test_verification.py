"""Admin verification: only admins decide; the account flag and the events follow the decision."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_user


async def test_admin_verifies_doctor_who_then_becomes_public(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, verified=False)
    await db.execute("UPDATE auth.users SET is_verified = false WHERE id = $1", doctor.user.id)
    admin = await make_user(db, settings, "admin")
    response = await client.post(f"/api/v1/admin/doctors/{doctor.id}/verify", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["verification_status"] == "verified"
    assert response.json()["verified_at"] is not None
    assert await db.fetchval("SELECT is_verified FROM auth.users WHERE id = $1", doctor.user.id)
    assert (await client.get(f"/api/v1/doctors/{doctor.id}")).status_code == 200
    events = await db.fetch(
        "SELECT type, data, actor FROM bus.outbox WHERE subject = $1", f"doctor:{doctor.id}"
    )
    assert [(e["type"], e["data"], e["actor"]) for e in events] == [
        ("doctor.verified", {"doctor_id": str(doctor.id)}, str(admin.id))
    ]
    again = await client.post(f"/api/v1/admin/doctors/{doctor.id}/verify", headers=admin.headers)
    assert again.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM bus.outbox") == 1  # no news, no event


async def test_admin_rejects_doctor_who_disappears_from_public(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    admin = await make_user(db, settings, "admin")
    response = await client.post(
        f"/api/v1/admin/doctors/{doctor.id}/reject",
        json={"reason": "License not found in the RPPS register."},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.json()["verification_status"] == "rejected"
    assert (await client.get(f"/api/v1/doctors/{doctor.id}")).status_code == 404
    assert (
        await client.get(f"/api/v1/doctors/{doctor.id}", headers=doctor.user.headers)
    ).status_code == 200
    assert not await db.fetchval("SELECT is_verified FROM auth.users WHERE id = $1", doctor.user.id)
    assert await db.fetchval("SELECT type FROM bus.outbox") == "doctor.updated"
    empty_body = await client.post(
        f"/api/v1/admin/doctors/{doctor.id}/reject", headers=admin.headers
    )
    assert empty_body.status_code == 200


async def test_only_admins_verify_or_reject(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings, verified=False)
    patient = await make_user(db, settings, "patient")
    admin = await make_user(db, settings, "admin")
    for action in ("verify", "reject"):
        url = f"/api/v1/admin/doctors/{doctor.id}/{action}"
        assert (await client.post(url)).status_code == 401
        assert (await client.post(url, headers=doctor.user.headers)).status_code == 403
        assert (await client.post(url, headers=patient.headers)).status_code == 403
    status = await db.fetchval(
        "SELECT verification_status FROM doctors.doctors WHERE id = $1", doctor.id
    )
    assert status == "unverified"
    missing = "/api/v1/admin/doctors/00000000-0000-0000-0000-000000000000/verify"
    assert (await client.post(missing, headers=admin.headers)).status_code == 404
    bad = await client.post(
        f"/api/v1/admin/doctors/{doctor.id}/reject", json={"why": "x"}, headers=admin.headers
    )
    assert bad.status_code == 422
