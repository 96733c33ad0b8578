"""Refunds: by API (the doctor or an admin), by cancellation policy, or for a slot lost while
the payment came in late. Each cause refunds once (its `request_key`), however often retried.

The refund is reserved against the payment first (row lock, in our database), then asked of
Stripe with the reservation's id as idempotency key, then settled or given back (dropped). One
left pending (a crash or a lost connection in between, Stripe unreachable) is settled or dropped
by whichever comes first: a retry of its request, Stripe's refund webhook, or the refund sweeper
(server/payments/reconcile.py); each asks Stripe (or hears from it) and concludes it once.
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
from server.payments.gateway import Gateway, StripeRefund
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
    one request_key refunds no more: one still pending (its first try lost before it settled) is
    asked of Stripe again and settled or dropped. RefundRefused (409) when nothing is left, the
    payment is not taken, the amount is more than what is left, or Stripe refuses;
    GatewayUnavailable (503) when Stripe cannot be reached (the refund stays pending)."""
    gateway = gateway_of(engines)
    async with engines.pool.acquire() as con, con.transaction():
        payment = await store.lock_payment(con, payment_id)
        if payment is None:
            raise RefundRefused(NO_SUCH_PAYMENT)
        earlier = await store.refund_by_key(con, payment_id, request_key)
        if earlier is not None:
            if earlier["status"] != "pending":
                return payment
        else:
            if payment["status"] not in ("completed", "refunded"):
                raise RefundRefused(REFUND_UNPAID)
            left = payment["amount"] - payment["amount_refunded"]
            amount = left if amount is None else amount
            if left <= 0 or amount > left:
                raise RefundRefused(REFUND_TOO_MUCH, params={"left": left}, left=left)
            await store.reserve_refund(
                con, uuid.uuid4(), payment_id, amount, reason, request_key, actor, clock.now()
            )
            # Nothing is asked of Stripe unless the refund is in the audit trail (fail closed).
            await record_change(con)
        refund = await store.refund_by_key(con, payment_id, request_key)
        assert refund is not None
    return await ask_stripe(engines.pool, gateway, refund, again=earlier is not None)


async def ask_stripe(
    pool: asyncpg.Pool, gateway: Gateway, refund: asyncpg.Record, *, again: bool
) -> asyncpg.Record:
    """Have Stripe make the pending `refund` (a row of storage.payments._REFUND) and settle it
    here, or drop it if Stripe refuses; the payment as it stands after. `again`: it may have
    been asked before, so Stripe's refunds of the intent are looked through first. Raises
    RefundRefused (409) when Stripe refuses, GatewayUnavailable (503) when it cannot say (the
    refund stays pending: Stripe may have made it)."""
    try:
        made = None
        if again:
            made = await gateway.find_refund(refund["transaction_id"], refund["id"])
        if made is None:
            made = await gateway.refund(
                refund["id"], refund["transaction_id"], refund["amount"], refund["payment_id"]
            )
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
        log.warning("refund outcome unknown", extra={"refund_id": str(refund["id"])})
        raise GatewayUnavailable(PROVIDER_UNREACHABLE) from exc
    except stripe.StripeError as exc:
        await _refused(pool, refund)
        raise RefundRefused(REFUND_PROVIDER_REFUSED) from exc
    if made.refused:
        await _refused(pool, refund)
        raise RefundRefused(REFUND_PROVIDER_REFUSED)
    async with pool.acquire() as con, con.transaction():
        after, changed = await conclude(con, refund, made)
        if changed:
            await record_change(con)
    return after


async def _refused(pool: asyncpg.Pool, refund: asyncpg.Record) -> None:
    async with pool.acquire() as con, con.transaction():
        await conclude(con, refund, None)
        await record_change(con, status=RefundRefused.status)
    log.warning("refund refused by the gateway", extra={"payment_id": str(refund["payment_id"])})


async def conclude(
    con: asyncpg.Connection, refund: asyncpg.Record, made: StripeRefund | None
) -> tuple[asyncpg.Record, bool]:
    """In the caller's transaction, under the payment's row lock: settle the pending `refund`
    as Stripe's refund `made` (emitting payment.refunded), or drop it when `made` is None or
    refused. Returns the payment as it stands and whether this call changed the refund: a
    refund already settled or dropped (by a concurrent retry, the sweep or a webhook) is left
    as it is, so each refund settles, and emits its event, once."""
    await store.lock_payment(con, refund["payment_id"])
    if made is None or made.refused:
        changed = await store.drop_refund(con, refund["id"], clock.now())
    else:
        changed = await store.settle_refund(con, refund["id"], made.id, clock.now())
    after = await store.fetch_payment(con, refund["payment_id"])
    assert after is not None
    if changed and made is not None and not made.refused:
        await emit_payment(
            con,
            events.PAYMENT_REFUNDED,
            after,
            refund["created_by"],
            refund_amount=refund["amount"],
            refund_reason=refund["reason"],
        )
    return after, changed
