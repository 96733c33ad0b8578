"""Verification, profile edits and reviews store the app clock's instant."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_user
from tests.far_clock import far_clock


async def test_verification_and_profile_edits_carry_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        doctor = await make_doctor(db, settings, verified=False)
        admin = await make_user(db, settings, "admin")
        verified = await client.post(
            f"/api/v1/admin/doctors/{doctor.id}/verify", headers=admin.headers
        )
        assert verified.status_code == 200, verified.text
        edited = await client.put(
            f"/api/v1/doctors/{doctor.id}", json={"bio": "Médecin"}, headers=doctor.user.headers
        )
        assert edited.status_code == 200, edited.text
    row = await db.fetchrow(
        "SELECT verified_at, updated_at FROM doctors.doctors WHERE id = $1", doctor.id
    )
    assert (row["verified_at"], row["updated_at"]) == (now, now)
    assert (
        await db.fetchval("SELECT updated_at FROM auth.users WHERE id = $1", doctor.user.id) == now
    )
