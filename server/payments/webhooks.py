"""Stripe webhooks: signature and age checked by the SDK, each event id applied once.

Deliveries may come twice, late or out of order; settle() only ever moves a payment forward,
so a late `payment_intent.processing` or `payment_failed` never undoes `succeeded`.
"""

from __future__ import annotations

import stripe

from server import clock
from server.audit.service import record_change
from server.engines import Engines
from server.payments.access import gateway_of
from server.payments.errors import SIGNATURE_MISMATCH, BadSignature
from server.payments.gateway import intent_of
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
STRIPE_ACTOR = "stripe"


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
        # The event (and what it settled) is applied only with its entry (fail closed: a 503
        # makes Stripe deliver it again).
        await record_change(con, resource_id=payment["id"] if payment is not None else event.id)
    return True
