"""Payments under concurrency and failure: two payments at once for one appointment, invoice
numbers under parallel completions, an abandoned 3-D Secure attempt replaced by another card,
and the payment provider out of reach."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from bus.embedded import free_port
from server.app import create_app
from server.settings import Settings
from tests.conftest import EngineUrls, delete_stream, make_settings
from tests.factories import make_patient
from tests.server.payments.helpers import VISA, card_token, stripe_intent
from tests.server.payments.test_payments import (
    PAYMENTS,
    becomes,
    held_slot,
    pay,
    three_d_secure_payment,
)
from tests.server.scheduling.helpers import booked, events_of, local


async def test_two_payments_at_once_for_one_appointment_charge_once(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)

    answers = await asyncio.gather(
        *(pay(paying, paying_settings, patient, held["id"]) for _ in range(4))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409], [a.text for a in answers]
    assert await db.fetchval("SELECT count(*) FROM payments.payments") == 1
    assert len(await events_of(db, "payment.completed")) == 1


async def test_invoice_numbers_stay_gapless_when_payments_complete_together(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    doctor, patient, first = await held_slot(paying, db, paying_settings)
    holds = [first]
    for hour in ("11:00", "12:00", "14:00", "15:00"):
        other = await make_patient(db, paying_settings)
        holds.append(await booked(paying, other, doctor, local(doctor, 3, hour)) | {"_p": other})
    payers = [patient] + [h["_p"] for h in holds[1:]]

    answers = await asyncio.gather(
        *(pay(paying, paying_settings, p, h["id"]) for p, h in zip(payers, holds, strict=True))
    )

    assert [a.status_code for a in answers] == [201] * 5
    seqs = await db.fetch("SELECT seq FROM payments.invoices ORDER BY seq")
    assert [r["seq"] for r in seqs] == [1, 2, 3, 4, 5]


async def test_an_abandoned_3d_secure_attempt_is_cancelled_when_another_card_pays(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    _, patient, held = await held_slot(paying, db, paying_settings)
    abandoned = await three_d_secure_payment(paying, paying_settings, patient, held["id"])

    second = await pay(paying, paying_settings, patient, held["id"])

    assert second.status_code == 201 and second.json()["status"] == "completed", second.text
    old = await paying.get(f"{PAYMENTS}/{abandoned['id']}", headers=patient.user.headers)
    assert old.json()["status"] == "failed"
    intent = await stripe_intent(paying_settings.stripe_api_base or "", abandoned["transaction_id"])
    assert intent["status"] == "canceled"
    await becomes(paying, patient, held["id"], "confirmed")


@pytest.fixture
async def unreachable(
    database_url: str, engine_urls: EngineUrls, tmp_path: Path, localstripe_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """Payments on, pointed at a port where nothing listens."""
    settings = make_settings(
        database_url,
        engine_urls.nats_url,
        tmp_path,
        payments_required=True,
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_webhook_secret=f"whsec_{secrets.token_hex(8)}",
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, settings.model_copy(update={"stripe_api_base": localstripe_url})
    await delete_stream(engine_urls.nats_url, settings.nats_stream)


async def test_an_unreachable_provider_is_a_503_and_the_hold_stays(
    unreachable: tuple[httpx.AsyncClient, Settings], db: asyncpg.Connection
) -> None:
    client, settings = unreachable
    _, patient, held = await held_slot(client, db, settings)
    token = await card_token(settings.stripe_api_base or "", VISA)

    response = await client.post(
        PAYMENTS,
        json={"appointment_id": held["id"], "payment_method": token},
        headers=patient.user.headers,
    )

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT status FROM payments.payments") == "pending"
    assert await db.fetchval("SELECT status FROM scheduling.appointments") == "held"
    # Until the attempt counts as lost, another one waits; then it is given up and a new one
    # may start (here it meets the same unreachable provider).
    again = await client.post(
        PAYMENTS,
        json={"appointment_id": held["id"], "payment_method": token},
        headers=patient.user.headers,
    )
    assert again.status_code == 409, again.text
    await db.execute("UPDATE payments.payments SET created_at = created_at - interval '1 hour'")
    later = await client.post(
        PAYMENTS,
        json={"appointment_id": held["id"], "payment_method": token},
        headers=patient.user.headers,
    )
    assert later.status_code == 503, later.text
    statuses = await db.fetch("SELECT status FROM payments.payments ORDER BY created_at")
    assert [r["status"] for r in statuses] == ["failed", "pending"]


async def test_an_attempt_lost_in_an_outage_that_goes_through_later_is_refunded(
    paying: httpx.AsyncClient, db: asyncpg.Connection, paying_settings: Settings
) -> None:
    from tests.server.payments.helpers import authenticate, eventually, stripe_refunds
    from tests.server.payments.test_payments import deliver

    _, patient, held = await held_slot(paying, db, paying_settings)
    lost = await three_d_secure_payment(paying, paying_settings, patient, held["id"])
    # As if its creation had had no answer: we never learnt the intent's id.
    await db.execute(
        """UPDATE payments.payments
           SET transaction_id = NULL, created_at = created_at - interval '1 hour'"""
    )
    paid = await pay(paying, paying_settings, patient, held["id"])
    assert paid.status_code == 201 and paid.json()["status"] == "completed"

    base = paying_settings.stripe_api_base or ""
    await authenticate(base, lost["transaction_id"], lost["client_secret"])
    await deliver(
        paying, paying_settings, "evt_lost_ok", "payment_intent.succeeded", lost["transaction_id"]
    )

    async def refunded() -> bool:
        status = await db.fetchval("SELECT status FROM payments.payments WHERE id = $1", lost["id"])
        return bool(status == "refunded")

    await eventually(refunded, "the second charge refunded")
    [refund] = await stripe_refunds(base, lost["transaction_id"])
    assert refund["amount"] == 4050
    kept = await paying.get(f"{PAYMENTS}/{paid.json()['id']}", headers=patient.user.headers)
    assert kept.json()["status"] == "completed"
    await becomes(paying, patient, held["id"], "confirmed")
