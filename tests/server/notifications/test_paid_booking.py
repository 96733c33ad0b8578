"""A paid booking (hold, then payment through localstripe) is announced once, like an unpaid one:
the patient's confirmation with the first calendar SEQUENCE, the doctor's email and bell,
reminders planned; a later cancellation updates that same event."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
import pytest
from icalendar import Calendar

from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_patient
from tests.server.notifications.conftest import Mailbox
from tests.server.notifications.helpers import eventually, message_rows
from tests.server.patients.test_relatives import add, link
from tests.server.payments.helpers import VISA, card_token
from tests.server.scheduling.helpers import booked, doctor_with_availability, local


@pytest.fixture
async def settings(
    database_url: str,
    engine_urls: EngineUrls,
    tmp_path: Path,
    smtp: tuple[Mailbox, int],
    localstripe_url: str,
) -> AsyncIterator[Settings]:
    """Email to the test's SMTP server and payments required, on the session's localstripe."""
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        notify_poll_interval_s=0.05,
        payments_required=True,
        stripe_api_base=localstripe_url,
        stripe_webhook_secret=f"whsec_{secrets.token_hex(16)}",
        hold_ttl_s=120,
    )
    yield settings
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


def _sequence(message: EmailMessage) -> tuple[str, int]:
    """(METHOD, SEQUENCE) of the one calendar attachment of `message`."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    cal = Calendar.from_ical(payload)
    [event] = cal.walk("VEVENT")
    return str(cal["METHOD"]), int(event["SEQUENCE"])


async def test_a_paid_hold_is_announced_once_as_the_booking_with_reminders(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings, consultation_fee=4050)
    patient = await make_patient(db, settings)
    held = await booked(client, patient, doctor, local(doctor, 3, "10:00"))
    assert held["status"] == "held"
    assert settings.stripe_api_base
    token = await card_token(settings.stripe_api_base, VISA)

    paid = await client.post(
        "/api/v1/payments",
        json={"appointment_id": held["id"], "payment_method": token},
        headers=patient.user.headers,
    )

    assert paid.status_code == 201, paid.text

    async def kinds() -> list[tuple[str, str]]:
        rows = await message_rows(db, appointment_id=held["id"])
        return sorted((r["kind"], r["channel"]) for r in rows if r["kind"].startswith("appoint"))

    # As for an unpaid booking (a confirmation is no SMS: those are for what changes the day).
    expected = [("appointment.confirmation", "email"), ("appointment.new", "email")]
    assert await eventually(kinds, lambda found: found == expected) == expected
    bell = await db.fetch("SELECT kind FROM notify.in_app WHERE user_id = $1", doctor.user.id)
    assert [r["kind"] for r in bell] == ["appointment.new"]
    planned = await db.fetchval(
        "SELECT count(*) FROM notify.reminders WHERE appointment_id = $1 AND status = 'pending'",
        held["id"],
    )
    assert planned > 0

    async def patient_emails() -> list[EmailMessage]:
        return [m for m in mailbox.to(patient.user.email) if m.get_body(("plain",))]

    def confirmation_of(found: list[EmailMessage]) -> list[EmailMessage]:
        return [m for m in found if "is booked" in m["Subject"]]

    emails = await eventually(patient_emails, lambda found: len(confirmation_of(found)) == 1)
    assert _sequence(confirmation_of(emails)[0]) == ("REQUEST", 0)

    cancelled = await client.post(
        f"/api/v1/appointments/{held['id']}/cancel",
        json={"reason": "Empêchement"},
        headers=patient.user.headers,
    )
    assert cancelled.status_code == 200, cancelled.text

    def cancel_of(found: list[EmailMessage]) -> list[EmailMessage]:
        return [
            m
            for m in found
            if any(p.get_content_type() == "text/calendar" for p in m.iter_attachments())
            and "is booked" not in m["Subject"]
        ]

    emails = await eventually(patient_emails, lambda found: len(cancel_of(found)) == 1)
    assert _sequence(cancel_of(emails)[0]) == ("CANCEL", 1)
    assert len(confirmation_of(emails)) == 1


async def test_the_receipt_goes_to_the_proxy_who_paid_the_booking_to_everyone_acting(
    client: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, mailbox: Mailbox
) -> None:
    doctor = await doctor_with_availability(client, db, settings, consultation_fee=4050)
    mother = await make_patient(db, settings, first_name="Claire", last_name="Martin")
    father = await make_patient(db, settings, first_name="Marc", last_name="Roux")
    lea = await add(client, mother)
    await link(db, father, lea["id"])
    held = await booked(client, mother, doctor, local(doctor, 3, "10:00"), patient_id=lea["id"])
    assert settings.stripe_api_base
    token = await card_token(settings.stripe_api_base, VISA)

    paid = await client.post(
        "/api/v1/payments",
        json={"appointment_id": held["id"], "payment_method": token},
        headers=father.user.headers,
    )

    assert paid.status_code == 201, paid.text
    receipt = await eventually(
        lambda: asyncio.sleep(0, mailbox.to(father.user.email)),
        lambda found: any(m["Subject"].startswith("Payment received") for m in found),
    )
    [receipt] = [m for m in receipt if m["Subject"].startswith("Payment received")]
    text = receipt.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Hello Marc Roux,")
    assert "your payment of 40,50 €" in text or "your payment of €40.50" in text
    assert "for Léa Martin's appointment with Dr " in text
    # Both parents hear of the booking; only the father, who paid, of the payment.
    booked_rows = await eventually(
        lambda: message_rows(db, kind="appointment.confirmation", channel="email"),
        lambda rows: len(rows) == 2,
    )
    assert {r["user_id"] for r in booked_rows} == {mother.user.id, father.user.id}
    receipts = await message_rows(db, kind="payment.completed")
    assert [r["user_id"] for r in receipts] == [father.user.id]
    bells = await db.fetch("SELECT user_id FROM notify.in_app WHERE kind = 'payment.completed'")
    assert [r["user_id"] for r in bells] == [father.user.id]
    assert (
        await db.fetchval(
            "SELECT payer_user_id FROM payments.payments WHERE appointment_id = $1::uuid",
            held["id"],
        )
        == father.user.id
    )
