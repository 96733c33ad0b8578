"""Paying a held slot against localstripe: the fee exactly, declines, 3-D Secure, late payments
(slot taken again, or refunded at once), lists and invoices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from server import clock
from server.settings import Settings
from tests.factories import Doctor, Patient, make_patient, make_user
from tests.server.patients.test_relatives import URL as RELATIVES
from tests.server.patients.test_relatives import add
from tests.server.payments.helpers import (
    DECLINED,
    GENERIC_DECLINE,
    THREE_D_SECURE,
    VISA,
    authenticate,
    card_token,
    event_for,
    eventually,
    signed,
    stripe_intent,
    stripe_refunds,
)
from tests.server.scheduling.helpers import booked, doctor_with_availability, events_of, local

PAYMENTS = "/api/v1/payments"


async def held_slot(
    paying: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings, days: int = 3
) -> tuple[Doctor, Patient, dict[str, Any]]:
    doctor = await doctor_with_availability(paying, db, settings, consultation_fee=4050)
    patient = await make_patient(db, settings)
    held = await booked(paying, patient, doctor, local(doctor, days, "10:00"))
    assert held["status"] == "held"
    return doctor, patient, held


async def pay(
    paying: httpx.AsyncClient,
    settings: Settings,
    patient: Patient,
    appointment_id: str,
    card: str = VISA,
    **extra: Any,
) -> httpx.Response:
    assert settings.stripe_api_base
    token = await card_token(settings.stripe_api_base, card)
    return await paying.post(
        PAYMENTS,
        json={"appointment_id": appointment_id, "payment_method": token, **extra},
        headers=patient.user.headers,
    )


async def appointment_status(
    paying: httpx.AsyncClient, patient: Patient, appointment_id: str
) -> str:
    response = await paying.get(
        f"/api/v1/appointments/{appointment_id}", headers=patient.user.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def becomes(
    paying: httpx.AsyncClient, patient: Patient, appointment_id: str, status: str
) -> None:
    async def check() -> bool:
        return await appointment_status(paying, patient, appointment_id) == status

    await eventually(check, f"appointment {status}")


async def test_paying_the_fee_books_the_held_slot_through_payment_completed(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, held = await held_slot(paying, db, paying_settings)

    response = await pay(paying, paying_settings, patient, held["id"], amount=4050)

    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "completed" and payment["amount"] == 4050
    assert payment["currency"] == "eur" and payment["transaction_id"].startswith("pi_")
    assert payment["invoice_number"] and payment["client_secret"] is None
    intent = await stripe_intent(paying_settings.stripe_api_base or "", payment["transaction_id"])
    assert intent["amount"] == 4050 and intent["metadata"]["appointment_id"] == held["id"]
    await becomes(paying, patient, held["id"], "confirmed")
    [initiated] = await events_of(db, "payment.initiated")
    [completed] = await events_of(db, "payment.completed")
    assert completed["payment_id"] == payment["id"] == initiated["payment_id"]
    assert completed["amount"] == 4050 and completed["invoice_number"]
    assert any(e["appointment_id"] == held["id"] for e in await events_of(db, "slot.booked"))
    # A second payment for the same appointment is refused.
    again = await pay(paying, paying_settings, patient, held["id"])
    assert again.status_code == 409, again.text


async def test_an_amount_other_than_the_fee_is_a_422_and_charges_nothing(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)

    response = await pay(paying, paying_settings, patient, held["id"], amount=100)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "amount"
    assert await db.fetchval("SELECT count(*) FROM payments.payments") == 0
    wrong_currency = await pay(paying, paying_settings, patient, held["id"], currency="usd")
    assert wrong_currency.status_code == 422


async def test_an_amount_must_be_a_json_integer_not_a_string_nor_a_float(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)

    for amount in ("4050", 4050.0, True):
        response = await pay(paying, paying_settings, patient, held["id"], amount=amount)
        assert response.status_code == 422, (amount, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "amount" and error["code"] == "int_type", error
    assert await db.fetchval("SELECT count(*) FROM payments.payments") == 0


@pytest.mark.parametrize("card", [DECLINED, GENERIC_DECLINE])
async def test_a_declined_card_is_a_402_and_another_card_may_follow(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, card: str
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)

    declined = await pay(paying, paying_settings, patient, held["id"], card=card)

    assert declined.status_code == 402, declined.text
    assert declined.json()["decline_code"] == "card_declined"
    [failed] = await events_of(db, "payment.failed")
    assert failed["failure_code"] == "card_declined"
    assert await appointment_status(paying, patient, held["id"]) == "held"
    paid = await pay(paying, paying_settings, patient, held["id"])
    assert paid.status_code == 201 and paid.json()["status"] == "completed"
    await becomes(paying, patient, held["id"], "confirmed")


async def three_d_secure_payment(
    paying: httpx.AsyncClient, settings: Settings, patient: Patient, appointment_id: str
) -> dict[str, Any]:
    response = await pay(paying, settings, patient, appointment_id, card=THREE_D_SECURE)
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    assert payment["status"] == "pending" and payment["next_action"] == "authenticate"
    return payment


async def deliver(
    paying: httpx.AsyncClient, settings: Settings, event_id: str, event_type: str, intent_id: str
) -> httpx.Response:
    """Send localstripe's current view of the intent as a signed webhook event."""
    intent = await stripe_intent(settings.stripe_api_base or "", intent_id)
    assert settings.stripe_webhook_secret
    body, headers = signed(
        settings.stripe_webhook_secret.get_secret_value(), event_for(event_id, event_type, intent)
    )
    return await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)


async def test_three_d_secure_waits_for_authentication_then_the_webhook_books_the_slot(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    payment = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    base = paying_settings.stripe_api_base or ""

    await authenticate(base, payment["transaction_id"], payment["client_secret"])
    answer = await deliver(
        paying, paying_settings, "evt_3ds_ok", "payment_intent.succeeded", payment["transaction_id"]
    )

    assert answer.status_code == 204, answer.text
    await becomes(paying, patient, held["id"], "confirmed")
    seen = await paying.get(f"{PAYMENTS}/{payment['id']}", headers=patient.user.headers)
    assert seen.json()["status"] == "completed"


async def test_a_payment_after_its_hold_expired_takes_the_slot_again_when_free(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    payment = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    await db.execute("UPDATE scheduling.appointments SET hold_expires_at = $1", clock.now())
    await becomes(paying, patient, held["id"], "cancelled")

    await authenticate(
        paying_settings.stripe_api_base or "", payment["transaction_id"], payment["client_secret"]
    )
    await deliver(
        paying, paying_settings, "evt_late", "payment_intent.succeeded", payment["transaction_id"]
    )

    await becomes(paying, patient, held["id"], "confirmed")
    row = await db.fetchrow("SELECT status, amount_refunded FROM payments.payments")
    assert row is not None and (row["status"], row["amount_refunded"]) == ("completed", 0)


async def test_a_late_payment_takes_nothing_back_for_a_relative_their_last_proxy_removed(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    """Léa's hold expired while her parent authenticated the payment; the parent then removed
    her (erased: nobody acts for her). The payment that lands after that is refunded: no visit
    comes back that nobody would hear of nor could manage."""
    doctor = await doctor_with_availability(paying, db, paying_settings, consultation_fee=4050)
    parent = await make_patient(db, paying_settings)
    lea = await add(paying, parent)
    held = await booked(paying, parent, doctor, local(doctor, 3, "10:00"), patient_id=lea["id"])
    payment = await three_d_secure_payment(paying, paying_settings, parent, held["id"])
    await db.execute("UPDATE scheduling.appointments SET hold_expires_at = $1", clock.now())
    await becomes(paying, parent, held["id"], "cancelled")
    removed = await paying.delete(f"{RELATIVES}/{lea['id']}", headers=parent.user.headers)
    assert removed.status_code == 204, removed.text

    await authenticate(
        paying_settings.stripe_api_base or "", payment["transaction_id"], payment["client_secret"]
    )
    await deliver(
        paying, paying_settings, "evt_gone", "payment_intent.succeeded", payment["transaction_id"]
    )

    async def refunded() -> asyncpg.Record | None:
        row = await db.fetchrow("SELECT status, amount_refunded FROM payments.payments")
        return row if row is not None and row["status"] == "refunded" else None

    assert (await eventually(refunded, "the late payment refunded"))["amount_refunded"] == 4050
    status = await db.fetchval(
        "SELECT status FROM scheduling.appointments WHERE id = $1::uuid", held["id"]
    )
    assert status == "cancelled"


async def test_a_payment_after_its_slot_went_to_another_is_refunded_at_once(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, held = await held_slot(paying, db, paying_settings)
    payment = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    await db.execute("UPDATE scheduling.appointments SET hold_expires_at = $1", clock.now())
    await becomes(paying, patient, held["id"], "cancelled")
    rival = await make_patient(db, paying_settings)
    await booked(paying, rival, doctor, local(doctor, 3, "10:00"))

    await authenticate(
        paying_settings.stripe_api_base or "", payment["transaction_id"], payment["client_secret"]
    )
    await deliver(
        paying, paying_settings, "evt_lost", "payment_intent.succeeded", payment["transaction_id"]
    )

    async def refunded() -> asyncpg.Record | None:
        row = await db.fetchrow("SELECT status, amount_refunded FROM payments.payments")
        return row if row is not None and row["status"] == "refunded" else None

    row = await eventually(refunded, "the late payment refunded")
    assert row["amount_refunded"] == 4050
    [refund] = await stripe_refunds(
        paying_settings.stripe_api_base or "", payment["transaction_id"]
    )
    assert refund["amount"] == 4050
    assert await appointment_status(paying, patient, held["id"]) == "cancelled"
    active = await db.fetchval(
        "SELECT count(*) FROM scheduling.appointments WHERE status IN ('held', 'scheduled')"
    )
    assert active == 1  # the rival's only: never a double booking


async def test_lists_are_paginated_and_the_invoice_is_a_pdf(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, held = await held_slot(paying, db, paying_settings)
    paid = (await pay(paying, paying_settings, patient, held["id"])).json()
    second = await booked(paying, patient, doctor, local(doctor, 4, "11:00"))
    await pay(paying, paying_settings, patient, second["id"])

    page = await paying.get(
        f"{PAYMENTS}/patient/{patient.id}", params={"limit": 1}, headers=patient.user.headers
    )
    assert page.status_code == 200 and page.json()["total"] == 2
    assert len(page.json()["items"]) == 1
    by_doctor = await paying.get(f"{PAYMENTS}/doctor/{doctor.id}", headers=doctor.user.headers)
    assert by_doctor.json()["total"] == 2
    one = await paying.get(
        f"{PAYMENTS}/doctor/{doctor.id}",
        params={"appointment_id": held["id"]},
        headers=doctor.user.headers,
    )
    assert [p["id"] for p in one.json()["items"]] == [paid["id"]]
    numbers = sorted(p["invoice_number"] for p in by_doctor.json()["items"])
    assert [n[-5:] for n in numbers] == ["00001", "00002"]  # gapless per practice and year

    pdf = await paying.get(f"{PAYMENTS}/{paid['id']}/invoice", headers={**patient.user.headers})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    audited = await db.fetchval("SELECT count(*) FROM audit.logs WHERE action = 'invoice.download'")
    assert audited == 1


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF of fpdf2's (its page streams are zlib-compressed)."""
    import re
    import zlib

    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    drawn = b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x")
    return drawn.decode("latin-1")


async def test_the_invoice_speaks_the_language_of_the_checkout(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    paid = (await pay(paying, paying_settings, patient, held["id"], language="fr")).json()

    pdf = await paying.get(f"{PAYMENTS}/{paid['id']}/invoice", headers=patient.user.headers)

    text = pdf_text(pdf.content)
    assert "Facture" in text and "40,50 EUR" in text and "Montant pay" in text


async def test_revenue_per_day_counts_what_was_taken_and_refunded(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    await pay(paying, paying_settings, patient, held["id"])
    admin = await make_user(db, paying_settings, "admin")
    now = clock.now()
    params = {
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }

    report = await paying.get(f"{PAYMENTS}/revenue", params=params, headers=admin.headers)

    assert report.status_code == 200, report.text
    [day] = report.json()["days"]
    assert (day["payments"], day["gross"], day["net"]) == (1, 4050, 4050)
    refused = await paying.get(f"{PAYMENTS}/revenue", params=params, headers=patient.user.headers)
    assert refused.status_code == 403


async def test_revenue_refuses_instants_out_of_range(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    admin = await make_user(db, paying_settings, "admin")
    for low, high in [
        ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"),
        ("1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z"),
    ]:
        answer = await paying.get(
            f"{PAYMENTS}/revenue", params={"from": low, "to": high}, headers=admin.headers
        )
        assert answer.status_code == 422, answer.text
        codes = {e["field"]: e["code"] for e in answer.json()["errors"]}
        assert codes == {"query.from": "instant_out_of_range", "query.to": "instant_out_of_range"}
