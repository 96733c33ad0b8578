"""Holds while paying: a paid hold becomes scheduled; an expired one is released by the sweeper."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from server import clock
from server.app import create_app
from server.scheduling.errors import TransitionRefused
from server.scheduling.service import mark_hold_paid, release_expired_holds
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_patient
from tests.server.scheduling.helpers import (
    booked,
    doctor_with_availability,
    events_of,
    local,
    slot_starts,
)


@pytest.fixture
async def paying_settings(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path
) -> AsyncIterator[Settings]:
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        payments_required=True,
        hold_ttl_s=60,
        hold_sweep_interval_s=0.1,
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


@pytest.fixture
async def paying_client(paying_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(paying_settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _wait_for(db: asyncpg.Connection, event_type: str) -> list[dict[str, object]]:
    for _ in range(200):  # the sweeper runs every 0.1 s; give it ample time on a busy machine
        found = await events_of(db, event_type)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event_type} event")


async def test_an_expired_hold_is_released_by_the_sweeper_and_announced(
    paying_client: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor = await doctor_with_availability(paying_client, db, paying_settings)
    patient = await make_patient(db, paying_settings)
    start = local(doctor, 2, "10:00")
    held = await booked(paying_client, patient, doctor, start)
    assert held["status"] == "held" and held["hold_expires_at"] is not None
    [slot_held] = await events_of(db, "slot.held")
    assert start not in await slot_starts(paying_client, doctor, start, local(doctor, 2, "11:00"))

    await db.execute("UPDATE scheduling.appointments SET hold_expires_at = $1", clock.now())
    [released] = await _wait_for(db, "slot.released")

    assert released["appointment_id"] == held["id"]
    assert released["availability_version"] > slot_held["availability_version"]
    [cancelled] = await events_of(db, "appointment.cancelled")
    assert cancelled["cancelled_by"] == "system" and cancelled["reason"] == "hold expired"
    row = await db.fetchrow("SELECT status, cancelled_by FROM scheduling.appointments")
    assert row is not None and (row["status"], row["cancelled_by"]) == ("cancelled", "system")
    assert start in await slot_starts(paying_client, doctor, start, local(doctor, 2, "11:00"))


async def test_a_paid_hold_becomes_scheduled_and_cannot_expire_afterwards(
    paying_client: httpx.AsyncClient,
    db: asyncpg.Connection,
    paying_settings: Settings,
    pool: asyncpg.Pool,
) -> None:
    doctor = await doctor_with_availability(paying_client, db, paying_settings)
    patient = await make_patient(db, paying_settings)
    held = await booked(paying_client, patient, doctor, local(doctor, 2, "10:00"))
    appointment_id = uuid.UUID(held["id"])

    assert await mark_hold_paid(pool, appointment_id, actor="payments") is True

    status = await db.fetchval("SELECT status FROM scheduling.appointments")
    assert status == "confirmed"  # paid: PRODUCT-SPEC section 8
    [slot_booked] = await events_of(db, "slot.booked")
    assert slot_booked["appointment_id"] == held["id"]
    assert await release_expired_holds(pool) == 0
    with pytest.raises(TransitionRefused):
        await mark_hold_paid(pool, appointment_id)
    assert await mark_hold_paid(pool, uuid.uuid4()) is False


async def test_free_visits_are_scheduled_at_once_even_when_payments_are_required(
    paying_client: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor = await doctor_with_availability(paying_client, db, paying_settings, consultation_fee=0)
    patient = await make_patient(db, paying_settings)
    appointment = await booked(paying_client, patient, doctor, local(doctor, 2, "10:00"))
    assert appointment["status"] == "scheduled" and appointment["hold_expires_at"] is None
