"""Refunds: by API (the doctor or an admin), by cancellation policy, or for a slot lost while
the payment came in late. Each cause refunds once (its `request_key`), however often retried.

The refund is reserved against the payment first (row lock, in our database), then asked of
Stripe with the reservation's id as idempotency key, then settled or given back.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import asyncpg
import stripe

from bus import events
from server import clock
from server.audit.service import record_change
from server.engines import Engines
from server.errors import MarkiniError
from server.payments.access import gateway_of
from server.payments.errors import (
    NO_SUCH_PAYMENT,
    PROVIDER_UNREACHABLE,
    REFUND_PROVIDER_REFUSED,
    REFUND_TOO_MUCH,
    REFUND_UNPAID,
    GatewayUnavailable,
    RefundRefused,
)
from server.payments.events import emit_payment
from storage import payments as store

log = logging.getLogger(__name__)

# Who cancelled → the refund reason; doctors and admins refund in full.
FULL_REFUND_PARTIES = frozenset({"doctor", "admin"})


def policy_refund(payment: asyncpg.Record, cancelled_by: str, at: datetime, start: datetime) -> int:
    """What a cancellation gives back: all when the doctor or an admin cancels or the patient
    cancels before the cut-off; later, the policy's share (rounded down to the minor unit)."""
    left = int(payment["amount"] - payment["amount_refunded"])
    if cancelled_by in FULL_REFUND_PARTIES:
        return left
    if at <= start - timedelta(hours=payment["refund_cutoff_hours"]):
        return left
    share = int(payment["amount"] * payment["late_refund_percent"] // 100)
    return min(left, share)


async def refund_payment(
    engines: Engines,
    payment_id: uuid.UUID,
    amount: int | None,
    reason: str,
    request_key: str,
    actor: str | None,
) -> asyncpg.Record:
    """Refund `amount` (default: all that is left); the payment as it stands after. A repeat of
    one request_key returns without refunding again. RefundRefused (409) when nothing is left,
    the payment is not taken, or the amount is more than what is left."""
    gateway = gateway_of(engines)
    refund_id = uuid.uuid4()
    async with engines.pool.acquire() as con, con.transaction():
        payment = await store.lock_payment(con, payment_id)
        if payment is None:
            raise RefundRefused(NO_SUCH_PAYMENT)
        if await store.refund_by_key(con, payment_id, request_key) is not None:
            return payment
        if payment["status"] not in ("completed", "refunded"):
            raise RefundRefused(REFUND_UNPAID)
        left = payment["amount"] - payment["amount_refunded"]
        amount = left if amount is None else amount
        if left <= 0 or amount > left:
            raise RefundRefused(REFUND_TOO_MUCH, params={"left": left}, left=left)
        await store.reserve_refund(
            con, refund_id, payment_id, amount, reason, request_key, actor, clock.now()
        )
        # Nothing is asked of Stripe unless the refund is in the audit trail (fail closed).
        await record_change(con)
    try:
        stripe_id = await gateway.refund(refund_id, payment["transaction_id"], amount, payment_id)
    except stripe.StripeError as exc:
        refusal: MarkiniError = (
            GatewayUnavailable(PROVIDER_UNREACHABLE)
            if isinstance(exc, stripe.APIConnectionError)
            else RefundRefused(REFUND_PROVIDER_REFUSED)
        )
        async with engines.pool.acquire() as con, con.transaction():
            await store.drop_refund(con, refund_id, clock.now())
            await record_change(con, status=refusal.status)
        log.warning("refund refused by the gateway", extra={"payment_id": str(payment_id)})
        raise refusal from exc
    async with engines.pool.acquire() as con, con.transaction():
        await store.settle_refund(con, refund_id, stripe_id, clock.now())
        after = await store.fetch_payment(con, payment_id)
        assert after is not None
        await emit_payment(
            con, events.PAYMENT_REFUNDED, after, actor, refund_amount=amount, refund_reason=reason
        )
        await record_change(con)
    return after
