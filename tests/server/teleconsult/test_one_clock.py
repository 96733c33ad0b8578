"""A teleconsultation's session is created at the app clock's instant."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from server.settings import Settings
from tests.far_clock import far_clock
from tests.signaling.helpers import teleconsultation_appointment, until_session_of

pytestmark = [pytest.mark.engines, pytest.mark.any_hour]


async def test_the_session_opened_by_a_confirmation_carries_the_app_clock(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    with far_clock() as now:
        _, patient, appointment_id = await teleconsultation_appointment(client, db, settings)
        await until_session_of(client, patient.user.headers, appointment_id)
    assert await db.fetchval("SELECT created_at FROM teleconsult.sessions") == now
