"""Stripe webhooks: bad signatures refused and audited, each event once, order does not matter,
old events refused by the signature's tolerance."""

from __future__ import annotations

import time

import asyncpg
import httpx

from server.settings import Settings
from tests.server.payments.helpers import authenticate, event_for, signed, stripe_intent
from tests.server.payments.test_payments import (
    PAYMENTS,
    deliver,
    held_slot,
    pay,
    three_d_secure_payment,
)
from tests.server.scheduling.helpers import events_of


def secret(settings: Settings) -> str:
    assert settings.stripe_webhook_secret
    return settings.stripe_webhook_secret.get_secret_value()


async def test_a_badly_signed_webhook_is_a_400_audited_and_changes_nothing(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    event = event_for("evt_forged", "payment_intent.succeeded", {"id": "pi_x", "status": "x"})
    body, headers = signed("whsec_not_ours", event)

    forged = await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)
    unsigned = await paying.post(
        f"{PAYMENTS}/webhook", content=body, headers={"Content-Type": "application/json"}
    )

    assert forged.status_code == unsigned.status_code == 400
    assert forged.headers["content-type"] == "application/problem+json"
    audited = await db.fetch("SELECT response_status FROM audit.logs WHERE action LIKE '%webhook%'")
    assert [r["response_status"] for r in audited] == [400, 400]
    assert await db.fetchval("SELECT count(*) FROM payments.webhook_events") == 0


async def test_an_old_event_is_refused_by_the_signature_tolerance(
    paying: httpx.AsyncClient, paying_settings: Settings
) -> None:
    event = event_for("evt_old", "payment_intent.processing", {"id": "pi_x"})
    body, headers = signed(secret(paying_settings), event, at=int(time.time()) - 3600)

    replay = await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)

    assert replay.status_code == 400


async def test_duplicate_and_out_of_order_events_never_undo_success(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    payment = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    intent_id = payment["transaction_id"]
    processing = await stripe_intent(paying_settings.stripe_api_base or "", intent_id)
    processing["status"] = "processing"
    await authenticate(paying_settings.stripe_api_base or "", intent_id, payment["client_secret"])

    for _ in range(2):  # delivered twice
        ok = await deliver(paying, paying_settings, "evt_ok", "payment_intent.succeeded", intent_id)
        assert ok.status_code == 204
    # A late `processing` and a stray `payment_failed` arrive after success.
    body, headers = signed(
        secret(paying_settings), event_for("evt_late", "payment_intent.processing", processing)
    )
    assert (
        await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)
    ).status_code == 204
    failed = {
        **processing,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "declined"},
    }
    body, headers = signed(
        secret(paying_settings), event_for("evt_fail", "payment_intent.payment_failed", failed)
    )
    assert (
        await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)
    ).status_code == 204

    seen = await paying.get(f"{PAYMENTS}/{payment['id']}", headers=patient.user.headers)
    assert seen.json()["status"] == "completed"
    assert len(await events_of(db, "payment.completed")) == 1
    assert await events_of(db, "payment.failed") == []
    assert await db.fetchval("SELECT count(*) FROM payments.webhook_events") == 3


async def test_an_event_for_someone_elses_intent_is_acknowledged_and_ignored(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    await pay(paying, paying_settings, patient, held["id"])
    stranger = {
        "id": "pi_elsewhere",
        "status": "succeeded",
        "amount": 1,
        "currency": "eur",
        "metadata": {},
    }
    body, headers = signed(
        secret(paying_settings), event_for("evt_other", "payment_intent.succeeded", stranger)
    )

    answer = await paying.post(f"{PAYMENTS}/webhook", content=body, headers=headers)

    assert answer.status_code == 204
    assert len(await events_of(db, "payment.completed")) == 1
