"""The test factories produce users whose tokens the API accepts."""

from __future__ import annotations

import asyncpg
import httpx

from server.settings import Settings
from tests.factories import make_doctor, make_patient


async def test_factory_users_are_authenticated(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    assert doctor.id and patient.id
    assert doctor.user.headers["Authorization"].startswith("Bearer ")
