"""A teleconsultation in its joining window: doctor, patient, confirmed appointment, session."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import Doctor, Patient, make_doctor, make_patient
from tests.server.scheduling.helpers import (
    availability,
    booked,
    every_day,
    local,
    move_to,
    put_availability,
)

SESSION_API = "/api/v1/teleconsultation/session"


@dataclass
class Consultation:
    doctor: Doctor
    patient: Patient
    appointment_id: str
    session_id: str


async def teleconsultation_appointment(
    http: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, *, confirm: bool = True
) -> tuple[Doctor, Patient, str]:
    doctor = await make_doctor(db, settings)
    patient = await make_patient(db, settings)
    rules = every_day(visit_type="teleconsultation")
    await put_availability(http, doctor, availability(rules, notice=0))
    appointment = await booked(
        http, patient, doctor, local(doctor, 2, "10:00"), visit_type="teleconsultation"
    )
    if confirm:
        url = f"/api/v1/appointments/{appointment['id']}/confirm"
        response = await http.post(url, headers=doctor.user.headers)
        assert response.status_code == 200, response.text
    return doctor, patient, str(appointment["id"])


async def open_session(http: httpx.AsyncClient, doctor: Doctor, appointment_id: str) -> str:
    response = await http.post(
        SESSION_API, json={"appointment_id": appointment_id}, headers=doctor.user.headers
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


async def consultation(
    http: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> Consultation:
    """Starting now: both parties may join."""
    doctor, patient, appointment_id = await teleconsultation_appointment(http, db, settings)
    await move_to(db, appointment_id, clock.now() + timedelta(minutes=5))
    session_id = await open_session(http, doctor, appointment_id)
    return Consultation(doctor, patient, appointment_id, session_id)


async def until_session_of(
    http: httpx.AsyncClient, headers: dict[str, str], appointment_id: str, wait_s: float = 15
) -> dict[str, object]:
    """The session the confirmed-appointment consumer opens (asynchronously, through NATS)."""
    async with asyncio.timeout(wait_s):
        while True:
            response = await http.get(
                SESSION_API, params={"appointment_id": appointment_id}, headers=headers
            )
            if response.status_code == 200:
                result: dict[str, object] = response.json()
                return result
            assert response.status_code == 404, response.text
            await asyncio.sleep(0.05)
