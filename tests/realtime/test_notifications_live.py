"""Appointment news reaches the bell live (/notifications) and stays there after a reload."""

from __future__ import annotations

import asyncpg
import pytest

from realtime.protocol import NOTIFICATION, NOTIFICATIONS_NS
from server.settings import Settings
from tests.factories import make_doctor, make_patient
from tests.realtime.conftest import ConnectProbe, LiveServer
from tests.server.scheduling.helpers import availability, booked, local, put_availability

pytestmark = pytest.mark.engines
EVENTS = [(NOTIFICATIONS_NS, NOTIFICATION)]


async def test_a_booking_rings_both_bells_live_and_the_history_keeps_unread_counts(
    live_server: LiveServer, connect: ConnectProbe, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor, patient = await make_doctor(db, settings), await make_patient(db, settings)
    await put_availability(live_server.http, doctor, availability(notice=0))
    patient_socket = await connect(live_server, [NOTIFICATIONS_NS], patient.user.token, EVENTS)
    doctor_socket = await connect(live_server, [NOTIFICATIONS_NS], doctor.user.token, EVENTS)

    appointment = await booked(live_server.http, patient, doctor, local(doctor, 2, "10:00"))

    await patient_socket.until(lambda: bool(patient_socket.got(NOTIFICATIONS_NS, NOTIFICATION)))
    await doctor_socket.until(lambda: bool(doctor_socket.got(NOTIFICATIONS_NS, NOTIFICATION)))
    [mine] = patient_socket.got(NOTIFICATIONS_NS, NOTIFICATION)
    assert mine["kind"] == "appointment.confirmation" and mine["title"] == "Appointment booked"
    assert mine["data"] == {"appointment_id": appointment["id"]}
    [theirs] = doctor_socket.got(NOTIFICATIONS_NS, NOTIFICATION)
    assert theirs["kind"] == "appointment.new" and "Jeanne Martin" in theirs["body"]

    page = await live_server.http.get("/api/v1/notifications", headers=patient.user.headers)
    assert page.status_code == 200
    assert page.json()["unread_count"] == 1
    assert [n["id"] for n in page.json()["items"]] == [mine["id"]]
    read = await live_server.http.post(
        "/api/v1/notifications/read", json={"ids": [mine["id"]]}, headers=doctor.user.headers
    )
    assert read.json() == {"unread_count": 1}  # not the doctor's to mark
    read = await live_server.http.post(
        "/api/v1/notifications/read", json={"ids": None}, headers=patient.user.headers
    )
    assert read.json() == {"unread_count": 0}
    page = await live_server.http.get("/api/v1/notifications", headers=patient.user.headers)
    assert page.json()["items"][0]["read_at"] is not None
