"""Appointment events reach a real SMTP server, with one calendar event updated in place."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from icalendar import Calendar

from bus import events
from bus.outbox import emit
from server import clock
from server.settings import Settings
from tests.factories import make_patient, make_user
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import booking, eventually, message_rows
from tests.server.scheduling.helpers import (
    availability,
    booked,
    doctor_with_availability,
    every_day,
    local,
    put_availability,
)


def _calendar(message: EmailMessage) -> Calendar:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "one invitation per email"
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def _event(cal: Calendar) -> Any:
    vevents = cal.walk("VEVENT")
    assert len(vevents) == 1
    return vevents[0]


async def _emails(mailbox: Mailbox, address: str, count: int) -> list[EmailMessage]:
    async def probe() -> list[EmailMessage]:
        return mailbox.to(address)

    return await eventually(probe, lambda found: len(found) >= count)


async def test_booking_then_doctor_reschedule_update_one_calendar_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    start = local(doctor, 3, "10:00")
    appointment = await booked(client, patient, doctor, start)

    confirmation = (await _emails(mailbox, patient.user.email, 1))[0]
    assert "is booked" in confirmation["Subject"]
    new_for_doctor = (await _emails(mailbox, doctor.user.email, 1))[0]
    assert new_for_doctor["Subject"].startswith("New appointment: Jeanne Martin")

    moved_to = local(doctor, 4, "11:00")
    response = await client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={"start": moved_to.isoformat(), "reason": "Urgence au cabinet"},
        headers=doctor.user.headers,
    )
    assert response.status_code == 200, response.text
    moved = (await _emails(mailbox, patient.user.email, 2))[1]
    assert "moved" in moved["Subject"]
    assert "Claire Lefèvre changed it" in moved.get_body(("plain",)).get_content()

    first, second = _event(_calendar(confirmation)), _event(_calendar(moved))
    assert str(first["UID"]) == str(second["UID"]) == f"{appointment['id']}@markini"
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert first.decoded("DTSTART") == start
    assert second.decoded("DTSTART") == moved_to
    assert _calendar(moved)["METHOD"] == "REQUEST"
    # The doctor moved it: they are not told of their own change.
    assert len(mailbox.to(doctor.user.email)) == 1
    # Stable Message-IDs: one per stored message.
    rows = await message_rows(db, recipient=patient.user.email)
    assert {f"<{r['id']}@markini>" for r in rows} == {
        confirmation["Message-ID"],
        moved["Message-ID"],
    }
    sent = await eventually(
        lambda: message_rows(db, recipient=patient.user.email, status="sent"),
        lambda found: len(found) == 2,
    )
    assert {r["provider_id"] for r in sent} == {r["Message-ID"] for r in (confirmation, moved)}
    admin = await make_user(db, settings, "admin")
    log = await client.get(
        "/api/v1/notifications/deliveries",
        params={"appointment_id": appointment["id"]},
        headers=admin.headers,
    )
    mine = [d for d in log.json()["items"] if d["recipient"] == patient.user.email]
    assert [(d["kind"], d["status"], d["attempts"]) for d in mine] == [
        ("appointment.confirmation", "sent", 1),
        ("appointment.rescheduled", "sent", 1),
    ]
    refused = await client.get(
        "/api/v1/notifications/deliveries",
        params={"appointment_id": appointment["id"]},
        headers=patient.user.headers,
    )
    assert refused.status_code == 403


async def test_patient_cancel_tells_the_doctor_and_cancels_the_event(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    made = await booking(client, db, settings, days=5, at="09:00")
    doctor, patient, appointment = made.doctor, made.patient, made.appointment
    await _emails(mailbox, patient.user.email, 1)
    response = await client.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"reason": "Je suis malade"},
        headers=patient.user.headers,
    )
    assert response.status_code == 200, response.text
    told = (await _emails(mailbox, doctor.user.email, 2))[1]
    assert "cancelled" in told["Subject"]
    assert "Je suis malade" in told.get_body(("plain",)).get_content()
    cancelled = (await _emails(mailbox, patient.user.email, 2))[1]
    cal = _calendar(cancelled)
    assert cal["METHOD"] == "CANCEL"
    assert str(_event(cal)["STATUS"]) == "CANCELLED"
    assert int(_event(cal)["SEQUENCE"]) == 1
    reminders = await db.fetch(
        "SELECT status FROM notify.reminders WHERE appointment_id = $1",
        uuid.UUID(appointment["id"]),
    )
    assert reminders and {r["status"] for r in reminders} == {"cancelled"}


async def test_french_patient_reads_french_in_their_own_zone_with_the_practice_time(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    await db.execute(
        """INSERT INTO notify.preferences (user_id, language, time_zone)
           VALUES ($1, 'fr', 'America/Montreal')""",
        patient.user.id,
    )
    start = local(doctor, 3, "10:00")
    await booked(client, patient, doctor, start)
    body = (await _emails(mailbox, patient.user.email, 1))[0].get_body(("plain",)).get_content()
    assert "Bonjour Jeanne" in body
    # 4 or 5 in the morning in Montreal, as the two zones' DST calendars have it that day.
    montreal = start.astimezone(ZoneInfo("America/Montreal")).strftime("%H:%M")
    assert f"{montreal} (10:00" in body and "au cabinet" in body


async def test_the_bell_gives_the_practice_time_with_its_zone_to_a_viewer_elsewhere(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    patient = await make_patient(db, settings)
    await db.execute(
        "INSERT INTO notify.preferences (user_id, time_zone) VALUES ($1, 'America/New_York')",
        patient.user.id,
    )
    start = local(doctor, 3, "10:00")
    await booked(client, patient, doctor, start)

    async def bell() -> list[asyncpg.Record]:
        return await db.fetch("SELECT body FROM notify.in_app WHERE user_id = $1", patient.user.id)

    [row] = await eventually(bell, lambda rows: len(rows) == 1)
    new_york = start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert f"{new_york} (10:00 Central European" in row["body"]
    assert "at the practice)" in row["body"]


async def test_a_payment_completed_event_sends_a_receipt(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    made = await booking(client, db, settings)
    doctor, patient, appointment = made.doctor, made.patient, made.appointment
    await _emails(mailbox, patient.user.email, 1)
    payment: dict[str, object] = {
        "payment_id": "8d3c4c1e-5f0e-4d61-9d0b-2b7e6a1f0c11",
        "appointment_id": appointment["id"],
        "patient_id": str(patient.id),
        "doctor_id": str(doctor.id),
        "amount": 4050,
        "currency": "EUR",
        "status": "completed",
        "amount_refunded": 0,
        "transaction_id": "pi_notify_receipt",
    }
    async with db.transaction():
        await emit(
            db,
            events.PAYMENT_COMPLETED,
            f"payment:{payment['payment_id']}",
            payment,
            at=clock.now(),
        )
    receipt = (await _emails(mailbox, patient.user.email, 2))[1]
    assert receipt["Subject"] == "Payment received: €40.50"


async def test_favourite_doctors_new_times_reach_their_patients_once_a_day(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings)
    fan, stranger = await make_patient(db, settings), await make_patient(db, settings)
    await db.execute(
        "INSERT INTO patients.favorite_doctors (patient_id, doctor_id) VALUES ($1, $2)",
        fan.id,
        doctor.id,
    )
    for hours in ("09:00", "10:00"):
        await put_availability(client, doctor, availability(every_day(start=hours)))
    [told] = await _emails(mailbox, fan.user.email, 1)
    assert told["Subject"] == "Dr Claire Lefèvre has new times to book"
    bell = await eventually(
        lambda: db.fetch("SELECT kind, data FROM notify.in_app WHERE user_id = $1", fan.user.id),
        lambda rows: len(rows) == 1,
    )
    assert bell[0]["data"] == {"doctor_id": str(doctor.id)}
    await eventually(
        lambda: db.fetchval(
            "SELECT count(*) FROM bus.handled_events WHERE consumer = 'notifications'"
        ),
        lambda handled: handled >= 3,  # the first publication and both updates
    )
    assert len(mailbox.to(fan.user.email)) == 1 and mailbox.to(stranger.user.email) == []
