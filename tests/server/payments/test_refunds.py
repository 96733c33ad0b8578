"""Refunds: in full when the doctor cancels, by the visit reason's policy when the patient does,
partial refunds by the doctor, each refund once however often it is retried."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from server import clock
from server.settings import Settings
from tests.factories import make_user
from tests.server.payments.helpers import eventually, stripe_refunds
from tests.server.payments.test_payments import PAYMENTS, becomes, held_slot, pay
from tests.server.scheduling.helpers import events_of, move_to


async def paid_appointment(paying: httpx.AsyncClient, db: asyncpg.Connection, settings: Settings):  # type: ignore[no-untyped-def]
    doctor, patient, held = await held_slot(paying, db, settings, days=5)
    payment = (await pay(paying, settings, patient, held["id"])).json()
    await becomes(paying, patient, held["id"], "confirmed")
    return doctor, patient, held, payment


async def refunded_amount(db: asyncpg.Connection, expected: int) -> int:
    async def check() -> int | None:
        # Settled refunds only: a reserved one counts against the payment before Stripe answers.
        value = await db.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM payments.refunds WHERE status = 'succeeded'"
        )
        return value if value == expected else None

    return await eventually(check, f"{expected} refunded")


async def cancel(
    paying: httpx.AsyncClient, user_headers: dict[str, str], appointment_id: str
) -> None:
    response = await paying.post(
        f"/api/v1/appointments/{appointment_id}/cancel",
        json={"reason": "test"},
        headers=user_headers,
    )
    assert response.status_code == 200, response.text


async def test_a_doctor_cancellation_refunds_in_full(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, _, held, payment = await paid_appointment(paying, db, paying_settings)

    await cancel(paying, doctor.user.headers, held["id"])

    assert await refunded_amount(db, 4050) == 4050
    assert await db.fetchval("SELECT status FROM payments.payments") == "refunded"
    [event] = await events_of(db, "payment.refunded")
    assert event["refund_amount"] == 4050 and event["status"] == "refunded"
    [refund] = await stripe_refunds(
        paying_settings.stripe_api_base or "", payment["transaction_id"]
    )
    assert refund["amount"] == 4050


async def test_a_patient_cancelling_before_the_cutoff_gets_everything_back(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held, _ = await paid_appointment(paying, db, paying_settings)  # 5 days ahead

    await cancel(paying, patient.user.headers, held["id"])

    assert await refunded_amount(db, 4050) == 4050


async def test_a_patient_cancelling_after_the_cutoff_gets_the_policy_share(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held, _ = await paid_appointment(paying, db, paying_settings)
    # Inside the default policy's 48 h, outside the 24 h after which patients cannot cancel.
    await move_to(db, held["id"], clock.now() + timedelta(hours=36))

    await cancel(paying, patient.user.headers, held["id"])

    assert await refunded_amount(db, 2025) == 2025  # 50 %
    assert await db.fetchval("SELECT status FROM payments.payments") == "completed"


async def test_partial_refunds_by_the_doctor_each_once_and_never_more_than_paid(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"{PAYMENTS}/{payment['id']}/refund"
    retried = {**doctor.user.headers, "Idempotency-Key": "refund-once"}

    first = await paying.post(url, json={"amount": 1000}, headers=retried)
    again = await paying.post(url, json={"amount": 1000}, headers=retried)
    admin = await make_user(db, paying_settings, "admin")
    second = await paying.post(url, json={"amount": 2000}, headers=admin.headers)
    too_much = await paying.post(url, json={"amount": 2000}, headers=doctor.user.headers)
    by_patient = await paying.post(url, json={"amount": 1}, headers=patient.user.headers)

    assert first.status_code == again.status_code == second.status_code == 200, second.text
    assert second.json()["amount_refunded"] == 3000
    assert too_much.status_code == 409 and too_much.json()["left"] == 1050
    assert by_patient.status_code == 403
    assert (
        len(await stripe_refunds(paying_settings.stripe_api_base or "", payment["transaction_id"]))
        == 2
    )
    rest = await paying.post(url, json={}, headers=doctor.user.headers)
    assert rest.json()["status"] == "refunded" and rest.json()["amount_refunded"] == 4050


async def test_a_refund_amount_must_be_a_json_integer(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"{PAYMENTS}/{payment['id']}/refund"

    for amount in ("1", 1.0, True):
        response = await paying.post(url, json={"amount": amount}, headers=doctor.user.headers)
        assert response.status_code == 422, (amount, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "amount" and error["code"] == "int_type", error
    assert await db.fetchval("SELECT count(*) FROM payments.refunds") == 0
    assert (
        await stripe_refunds(paying_settings.stripe_api_base or "", payment["transaction_id"]) == []
    )
