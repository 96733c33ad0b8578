"""A NATS outage while the patient pays: the payment is taken and recorded at once, its
payment.completed waits in the outbox, and the slot is booked once NATS is back: nothing lost,
nothing doubled."""

from __future__ import annotations

import secrets
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from bus.embedded import embedded_nats, free_port
from server.app import create_app
from tests.conftest import make_settings
from tests.server.payments.test_payments import becomes, held_slot, pay
from tests.server.scheduling.helpers import events_of


async def test_a_payment_during_a_nats_outage_books_the_slot_once_nats_is_back(
    database_url: str, db: asyncpg.Connection, tmp_path: Path, localstripe_url: str
) -> None:
    port = free_port()
    store = tmp_path / "nats"
    first = embedded_nats(store, port)
    nats_url = await first.__aenter__()
    settings = make_settings(
        database_url,
        nats_url,
        tmp_path / "data",
        payments_required=True,
        stripe_api_base=localstripe_url,
        stripe_webhook_secret=f"whsec_{secrets.token_hex(8)}",
    )
    second = embedded_nats(store, port)  # same store: the stream survives
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                _, patient, held = await held_slot(c, db, settings)
                await first.__aexit__(None, None, None)  # NATS goes away

                paid = await pay(c, settings, patient, held["id"])

                assert paid.status_code == 201 and paid.json()["status"] == "completed"
                [completed] = await events_of(db, "payment.completed")
                unpublished = await db.fetchval(
                    "SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"
                )
                assert unpublished > 0
                await second.__aenter__()
                await becomes(c, patient, held["id"], "confirmed")
    finally:
        await second.__aexit__(None, None, None)
    assert completed["payment_id"] == paid.json()["id"]
    assert (
        await db.fetchval("SELECT count(*) FROM bus.handled_events WHERE consumer = 'payments'")
        == 1
    )
    booked = await db.fetchval("SELECT count(*) FROM bus.outbox WHERE type = 'slot.booked'")
    assert booked == 1
