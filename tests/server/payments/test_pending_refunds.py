"""Refunds left pending when their settling transaction did not commit after Stripe refunded (a
crash, a lost connection) end settled or dropped once: by a retry of the request, by the sweep,
or by Stripe's refund webhook, whichever comes first, with one payment.refunded at most."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any

import asyncpg
import httpx
import pytest

from bus.embedded import free_port
from server import clock
from server.payments.embedded import LOCAL_SECRET_KEY
from server.payments.errors import GatewayUnavailable
from server.payments.gateway import Gateway, open_gateway
from server.payments.reconcile import GRACE, reconcile_refunds
from server.payments.refunds import ask_stripe
from server.settings import Settings
from storage import payments as store
from storage.pool import open_pool
from tests.server.payments.helpers import GENERIC_DECLINE, event_for, signed, stripe_refunds
from tests.server.payments.test_payments import PAYMENTS, held_slot, pay
from tests.server.payments.test_refunds import paid_appointment
from tests.server.scheduling.helpers import events_of


async def stripe_list(api_base: str, what: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{api_base}/v1/{what}",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {LOCAL_SECRET_KEY}"},
        )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


@asynccontextmanager
async def engines_of(settings: Settings, database_url: str) -> AsyncIterator[tuple[Any, Gateway]]:
    """A pool and a gateway of their own, as another node's sweeper has."""
    async with AsyncExitStack() as stack:
        pool = await stack.enter_async_context(open_pool(database_url, 4))
        gateway = await stack.enter_async_context(open_gateway(settings, stack))
        yield pool, gateway


async def refund_lost_after_stripe(
    paying: httpx.AsyncClient, db: asyncpg.Connection, url: str, headers: dict[str, str]
) -> None:
    """POST the refund while its settling UPDATE fails, after Stripe refunded: as a node
    dying at that moment."""
    await db.execute(
        """CREATE FUNCTION pg_temp.no_settle() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'node lost'; END $$"""
    )
    await db.execute(
        """CREATE TRIGGER no_settle BEFORE UPDATE ON payments.refunds FOR EACH ROW
           WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION pg_temp.no_settle()"""
    )
    try:
        with suppress(Exception):  # the test transport raises the app's own error
            lost = await paying.post(url, json={"amount": 1000}, headers=headers)
            assert lost.status_code >= 500
    finally:
        await db.execute("DROP TRIGGER no_settle ON payments.refunds")
        await db.execute("DROP FUNCTION pg_temp.no_settle()")
    assert await db.fetchval("SELECT status FROM payments.refunds") == "pending"


async def assert_settled_once(
    db: asyncpg.Connection, settings: Settings, payment: dict[str, Any]
) -> None:
    refund = await db.fetchrow("SELECT status, stripe_refund_id FROM payments.refunds")
    assert refund["status"] == "succeeded"
    [made] = await stripe_refunds(settings.stripe_api_base or "", payment["transaction_id"])
    assert refund["stripe_refund_id"] == made["id"] and made["amount"] == 1000
    [event] = await events_of(db, "payment.refunded")
    assert event["refund_amount"] == 1000 and event["amount_refunded"] == 1000
    assert await db.fetchval("SELECT amount_refunded FROM payments.payments") == 1000


async def test_a_refund_lost_after_stripe_is_settled_once_by_the_sweep(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, database_url: str
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"/api/v1/payments/{payment['id']}/refund"
    await refund_lost_after_stripe(paying, db, url, doctor.user.headers)
    async with engines_of(paying_settings, database_url) as (pool, gateway):
        # Within the grace its own request may still be asking Stripe: left alone.
        assert await reconcile_refunds(pool, gateway, clock.now() - GRACE) == 0
        assert await db.fetchval("SELECT status FROM payments.refunds") == "pending"
        later = clock.now() + GRACE
        assert await reconcile_refunds(pool, gateway, later) == 1
        assert await reconcile_refunds(pool, gateway, later) == 0
    await assert_settled_once(db, paying_settings, payment)


async def test_concurrent_retries_and_sweeps_settle_a_lost_refund_once(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, database_url: str
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"/api/v1/payments/{payment['id']}/refund"
    headers = {**doctor.user.headers, "Idempotency-Key": "refund-retried-at-once"}
    await refund_lost_after_stripe(paying, db, url, headers)
    async with engines_of(paying_settings, database_url) as (pool, gateway):
        later = clock.now() + GRACE
        answers = await asyncio.gather(
            paying.post(url, json={"amount": 1000}, headers=headers),
            *(reconcile_refunds(pool, gateway, later) for _ in range(3)),
        )
    retried = answers[0]
    assert isinstance(retried, httpx.Response)
    assert retried.status_code == 200, retried.text
    await assert_settled_once(db, paying_settings, payment)


async def test_a_refund_stripe_refuses_is_dropped_by_the_sweep_without_an_event(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, database_url: str
) -> None:
    """A refund reserved against a charge Stripe declined (its node died before asking)."""
    _, patient, held = await held_slot(paying, db, paying_settings)
    declined = await pay(paying, paying_settings, patient, held["id"], GENERIC_DECLINE)
    assert declined.status_code == 402, declined.text
    payment_id = await db.fetchval("SELECT id FROM payments.payments")
    [intent] = [
        i
        for i in await stripe_list(paying_settings.stripe_api_base or "", "payment_intents")
        if i["metadata"].get("payment_id") == str(payment_id)
    ]
    await db.execute("UPDATE payments.payments SET transaction_id = $1", intent["id"])
    refund_id = uuid.uuid4()
    await store.reserve_refund(
        db, refund_id, payment_id, 1000, "lost", "api:lost", "admin", clock.now()
    )
    async with engines_of(paying_settings, database_url) as (pool, gateway):
        assert await reconcile_refunds(pool, gateway, clock.now() + GRACE) == 1
    assert await db.fetchval("SELECT status FROM payments.refunds") == "failed"
    assert await db.fetchval("SELECT amount_refunded FROM payments.payments") == 0
    assert await events_of(db, "payment.refunded") == []


@pytest.mark.parametrize("event_type", ["refund.created", "refund.updated"])
async def test_stripes_refund_webhook_settles_a_lost_refund_once(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, event_type: str
) -> None:
    doctor, _, _, payment = await paid_appointment(paying, db, paying_settings)
    url = f"/api/v1/payments/{payment['id']}/refund"
    headers = {**doctor.user.headers, "Idempotency-Key": "refund-then-webhook"}
    await refund_lost_after_stripe(paying, db, url, headers)
    [made] = await stripe_refunds(paying_settings.stripe_api_base or "", payment["transaction_id"])
    assert paying_settings.stripe_webhook_secret
    secret = paying_settings.stripe_webhook_secret.get_secret_value()
    for n in range(2):  # two events about it: the second changes nothing
        body, signature = signed(secret, event_for(f"evt_refund_{n}", event_type, made))
        answer = await paying.post(f"{PAYMENTS}/webhook", content=body, headers=signature)
        assert answer.status_code == 204, answer.text
    retried = await paying.post(url, json={"amount": 1000}, headers=headers)
    assert retried.status_code == 200, retried.text
    await assert_settled_once(db, paying_settings, payment)


async def test_a_refund_stripe_could_not_be_asked_about_stays_reserved_until_the_sweep(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings, database_url: str
) -> None:
    """Stripe unreachable: a 503, and the refund stays counted against the payment (Stripe may
    have made it) rather than given back; the sweep, Stripe back, has it made and settles it."""
    _, _, _, payment = await paid_appointment(paying, db, paying_settings)
    cut_off = paying_settings.model_copy(
        update={"stripe_api_base": f"http://127.0.0.1:{free_port()}"}
    )
    async with engines_of(cut_off, database_url) as (pool, gateway):
        await store.reserve_refund(
            db, uuid.uuid4(), uuid.UUID(payment["id"]), 1000, "r", "api:k", "admin", clock.now()
        )
        refund = await store.fetch_refund(db, await db.fetchval("SELECT id FROM payments.refunds"))
        assert refund is not None
        with pytest.raises(GatewayUnavailable):
            await ask_stripe(pool, gateway, refund, again=False)
        assert await reconcile_refunds(pool, gateway, clock.now() + GRACE) == 0
    assert await db.fetchval("SELECT status FROM payments.refunds") == "pending"
    assert await db.fetchval("SELECT amount_refunded FROM payments.payments") == 1000
    async with engines_of(paying_settings, database_url) as (pool, gateway):
        assert await reconcile_refunds(pool, gateway, clock.now() + GRACE) == 1
    await assert_settled_once(db, paying_settings, payment)
