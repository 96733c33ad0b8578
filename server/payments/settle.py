"""Bring a payment in line with its PaymentIntent, whichever way the news came (the answer to
our own call, a webhook, a later look-up), in any order and as often as it comes.

Success wins: once completed, a payment never goes back to pending or failed (a late
`processing` or `payment_failed` changes nothing); a failure can still be followed by success.
"""

from __future__ import annotations

import logging

import asyncpg

from bus import events
from server import clock
from server.audit.service import record_change
from server.payments.events import emit_payment
from server.payments.gateway import Intent
from storage import payments as store

log = logging.getLogger(__name__)

FAILED_STATES = frozenset({"requires_payment_method", "canceled"})


async def settle(
    con: asyncpg.Connection, intent: Intent, actor: str | None
) -> tuple[asyncpg.Record | None, bool]:
    """Apply the intent's state to its payment, in the caller's transaction; return the
    payment as it stands (None when the intent is not one of ours) and whether it changed
    (completed, invoice numbered, or failed: the caller records that change in the audit trail)."""
    payment_id = intent.payment_id or await store.payment_id_for_intent(con, intent.id)
    if payment_id is None:
        return None, False
    row = await store.lock_payment(con, payment_id)
    if row is None or row["transaction_id"] not in (None, intent.id):
        return row, False
    now = clock.now()
    if intent.status == "succeeded" and row["status"] in ("pending", "failed"):
        if (intent.amount, intent.currency) != (row["amount"], row["currency"]):
            log.error("intent amount differs from the payment", extra={"intent": intent.id})
            return row, False
        if row["transaction_id"] is None:
            await store.set_intent(con, payment_id, intent.id, now)
        await store.complete_payment(con, payment_id, "card", now)
        zone = await store.doctor_zone(con, row["doctor_id"])
        await store.number_invoice(con, payment_id, row["doctor_id"], now, zone)
        row = await store.fetch_payment(con, payment_id)
        assert row is not None
        await emit_payment(con, events.PAYMENT_COMPLETED, row, actor)
        return row, True
    if intent.status in FAILED_STATES and row["status"] == "pending":
        if intent.failure_code is None and intent.status != "canceled":
            return row, False  # waiting for a card: nothing was tried yet
        await store.fail_payment(
            con, payment_id, intent.failure_code or "canceled", intent.failure_message, now
        )
        row = await store.fetch_payment(con, payment_id)
        assert row is not None
        await emit_payment(con, events.PAYMENT_FAILED, row, actor)
        return row, True
    return row, False


async def settle_now(
    pool: asyncpg.Pool, intent: Intent, actor: str | None
) -> asyncpg.Record | None:
    """settle() in a transaction of its own, which records the change it makes (if any) in
    the audit trail of the current request."""
    async with pool.acquire() as con, con.transaction():
        row, changed = await settle(con, intent, actor)
        if changed and row is not None:
            await record_change(con, resource_id=row["id"])
    return row
