"""Payments in the audit trail (issue #16 rules): each change writes its entry in its own
transaction, so with the audit store refusing rows a payment, a refund or a webhook changes
nothing (no row, no event, nothing asked of Stripe) and answers 503; once the store accepts rows
again the same request goes through with its entries naming the payment."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from server.settings import Settings
from tests.server.audit.helpers import accept_audit_rows, refuse_audit_rows
from tests.server.payments.helpers import authenticate, stripe_refunds
from tests.server.payments.test_payments import (
    PAYMENTS,
    deliver,
    held_slot,
    pay,
    three_d_secure_payment,
)
from tests.server.payments.test_refunds import paid_appointment


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/unavailable"


async def _payments_state(db: asyncpg.Connection) -> tuple[Any, ...]:
    return (
        await db.fetch("SELECT id, status, amount_refunded FROM payments.payments ORDER BY id"),
        await db.fetchval("SELECT count(*) FROM payments.refunds"),
        await db.fetchval("SELECT count(*) FROM payments.webhook_events"),
        await db.fetchval("SELECT count(*) FROM bus.outbox WHERE type LIKE 'payment.%'"),
        await db.fetchval("SELECT count(*) FROM audit.logs"),
    )


async def _entries(db: asyncpg.Connection, action: str) -> list[tuple[str | None, int]]:
    rows = await db.fetch(
        "SELECT resource_id, response_status FROM audit.logs WHERE action = $1 ORDER BY append_id",
        action,
    )
    return [(r["resource_id"], r["response_status"]) for r in rows]


async def test_a_payment_that_cannot_be_audited_is_not_made(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    before = await _payments_state(db)
    await refuse_audit_rows(db)

    _unavailable(await pay(paying, paying_settings, patient, held["id"]))

    assert await _payments_state(db) == before  # no payment, no event, no entry
    await accept_audit_rows(db)
    paid = await pay(paying, paying_settings, patient, held["id"])
    assert paid.status_code == 201 and paid.json()["status"] == "completed", paid.text
    # Created, then settled (completed, invoice numbered): one entry in each transaction.
    assert await _entries(db, f"POST {PAYMENTS}") == [(paid.json()["id"], 201)] * 2
    assert await db.fetchval("SELECT count(*) FROM payments.payments") == 1


async def test_a_refund_that_cannot_be_audited_is_not_asked_of_stripe(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"{PAYMENTS}/{payment['id']}/refund"
    before = await _payments_state(db)
    await refuse_audit_rows(db)

    _unavailable(await paying.post(url, json={"amount": 1000}, headers=doctor.user.headers))

    assert await _payments_state(db) == before
    api_base = paying_settings.stripe_api_base or ""
    assert await stripe_refunds(api_base, payment["transaction_id"]) == []
    await accept_audit_rows(db)
    refunded = await paying.post(url, json={"amount": 1000}, headers=doctor.user.headers)
    assert refunded.status_code == 200 and refunded.json()["amount_refunded"] == 1000
    # Reserved, then settled with Stripe's answer.
    assert (
        await _entries(db, f"POST {PAYMENTS}/{{payment_id}}/refund") == [(payment["id"], 200)] * 2
    )
    assert len(await stripe_refunds(api_base, payment["transaction_id"])) == 1


async def test_a_webhook_that_cannot_be_audited_is_applied_on_stripes_retry(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    payment = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    intent_id = payment["transaction_id"]
    await authenticate(paying_settings.stripe_api_base or "", intent_id, payment["client_secret"])
    before = await _payments_state(db)
    await refuse_audit_rows(db)

    refused = await deliver(paying, paying_settings, "evt_a", "payment_intent.succeeded", intent_id)

    _unavailable(refused)
    assert await _payments_state(db) == before  # still pending, the event not marked as seen
    await accept_audit_rows(db)
    retried = await deliver(paying, paying_settings, "evt_a", "payment_intent.succeeded", intent_id)
    assert retried.status_code == 204
    assert await _entries(db, f"POST {PAYMENTS}/webhook") == [(payment["id"], 204)]
    seen = await paying.get(f"{PAYMENTS}/{payment['id']}", headers=patient.user.headers)
    assert seen.json()["status"] == "completed" and seen.json()["invoice_number"]
