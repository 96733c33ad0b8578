"""The refund sweeper: a refund still pending after a grace (its node died, or lost its
database, between reserving it and settling it; or Stripe could not be reached) is asked of
Stripe again and settled (with its payment.refunded) or dropped, so none stays pending for good.

Safe on many nodes at once and beside a retry of the request: each refund settles or drops
once, under its payment's row lock (refunds.conclude), and Stripe makes one refund per refund
id (looked up by its metadata first, then asked with the same idempotency key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg

from server import clock
from server.engines import Engines
from server.payments.errors import GatewayUnavailable, RefundRefused
from server.payments.gateway import NETWORK_RETRIES, TIMEOUT_S, Gateway
from server.payments.refunds import ask_stripe
from server.tasks import sweep_forever
from storage import payments as store

log = logging.getLogger(__name__)

# Longer than a refund's own request can still be asking Stripe (each try times out), so the
# sweep never races a first try that is merely slow.
GRACE = timedelta(seconds=max(300.0, 3 * TIMEOUT_S * (NETWORK_RETRIES + 1)))
SWEEP_INTERVAL_S = 60.0
BATCH = 100


async def reconcile_refunds(pool: asyncpg.Pool, gateway: Gateway, before: datetime) -> int:
    """Settle or drop each refund reserved before `before` and still pending (a batch, oldest
    first); return how many Stripe answered for (settled or dropped, here or by whoever came
    first). One Stripe cannot answer for stays pending for the next round."""
    concluded = 0
    for refund in await store.pending_refunds(pool, before, BATCH):
        try:
            await ask_stripe(pool, gateway, refund, again=True)
        except GatewayUnavailable:
            continue
        except RefundRefused:
            pass  # dropped
        concluded += 1
    return concluded


async def run_refund_sweeper(engines: Engines) -> None:
    """Background task (payments on): sweep every SWEEP_INTERVAL_S, surviving hiccups."""
    gateway = engines.payments
    if gateway is None:
        return
    await sweep_forever(
        lambda: reconcile_refunds(engines.pool, gateway, clock.now() - GRACE),
        SWEEP_INTERVAL_S,
        "pending refunds settled or dropped",
        log,
    )
