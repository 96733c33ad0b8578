"""Stripe webhooks: signature and age checked by the SDK, each event id applied once.

Deliveries may come twice, late or out of order; settle() only ever moves a payment forward,
so a late `payment_intent.processing` or `payment_failed` never undoes `succeeded`. A refund
event settles or drops our refund still pending (refunds.conclude: once, whoever comes first).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import stripe

from server import clock
from server.audit.service import record_change
from server.engines import Engines
from server.payments.access import gateway_of
from server.payments.errors import SIGNATURE_MISMATCH, BadSignature
from server.payments.gateway import intent_of, refund_of
from server.payments.refunds import conclude
from server.payments.settle import settle
from storage import payments as store

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.canceled",
        "payment_intent.requires_action",
    }
)
# A refund's news (data.object is the refund; its metadata names ours).
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
STRIPE_ACTOR = "stripe"


async def _conclude_refund(con: asyncpg.Connection, obj: Any) -> asyncpg.Record | None:
    """Settle or drop the refund of ours Stripe's refund `obj` was made for, if still pending;
    its payment (None when the refund is not one of ours)."""
    made = refund_of(obj)
    refund = None if made.refund_id is None else await store.fetch_refund(con, made.refund_id)
    if refund is None:
        return None
    payment, _ = await conclude(con, refund, made)
    return payment


async def handle_webhook(engines: Engines, payload: bytes, signature: str | None) -> bool:
    """Apply one signed event; False when this event id was applied before. Raises
    BadSignature (400) for a missing, wrong or too old signature."""
    gateway = gateway_of(engines)
    try:
        event = gateway.verify_event(payload, signature or "")
    except (ValueError, stripe.SignatureVerificationError) as exc:
        # Refused before any change: the audit middleware records the 400.
        raise BadSignature(SIGNATURE_MISMATCH) from exc
    async with engines.pool.acquire() as con, con.transaction():
        if not await store.record_webhook_event(con, event.id, event.type, clock.now()):
            return False
        payment = None
        if event.type in INTENT_EVENTS:
            payment, _ = await settle(con, intent_of(event.data.object), STRIPE_ACTOR)
        elif event.type in REFUND_EVENTS:
            payment = await _conclude_refund(con, event.data.object)
        # The event (and what it settled) is applied only with its entry (fail closed: a 503
        # makes Stripe deliver it again).
        await record_change(con, resource_id=payment["id"] if payment is not None else event.id)
    return True
