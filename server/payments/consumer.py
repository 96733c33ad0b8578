"""Durable consumer "payments": what follows a payment or a cancellation.

- payment.completed books the held slot (scheduling's mark_hold_paid). A payment that came in
  after its hold expired takes the slot again if it is still free, else is refunded at once:
  never a double booking, never a charge for nothing.
- A second charge for one appointment (an attempt lost in an outage that went through after
  all) is refunded at once.
- appointment.cancelled refunds a paid appointment by its cancellation policy.

Idempotent (bus.consumer.idempotent): each event id is handled once; refunds also carry one
request key per cause, so a retried handler never refunds twice. One event per transaction, not
a batch (bus.consumer.one_by_one): the work commits on its own connections and refunds call the
payment provider, so a batch rolled back by its last event (and retried event by event) would
redo the earlier events' work; alone, each event's handled mark commits right after its work.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg

from bus import events
from bus.consumer import BatchHandler, each, idempotent, one_by_one, run_batch_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.payments.errors import RefundRefused
from server.payments.events import PaymentChanged
from server.payments.refunds import policy_refund, refund_payment
from server.scheduling.errors import SlotTaken, TransitionRefused
from server.scheduling.events import AppointmentChanged
from server.scheduling.service import mark_hold_paid, retake_expired_hold
from storage import payments as store

log = logging.getLogger(__name__)

CONSUMER = "payments"
ACTOR = "payments"
HANDLED = frozenset({events.PAYMENT_COMPLETED, events.APPOINTMENT_CANCELLED})
SLOT_LOST = "slot-lost"
CANCELLATION = "cancellation"
DUPLICATE = "duplicate"


async def book_paid_slot(engines: Engines, paid: PaymentChanged) -> None:
    try:
        await mark_hold_paid(engines.pool, paid.appointment_id, ACTOR)
        return
    except TransitionRefused:
        pass
    try:
        await retake_expired_hold(engines.pool, paid.appointment_id, ACTOR)
        log.info("late payment took its slot again", extra={"payment_id": str(paid.payment_id)})
        return
    except (TransitionRefused, SlotTaken):
        pass
    async with engines.pool.acquire() as con:
        appointment = await store.appointment_to_pay(con, paid.appointment_id)
        first = await store.first_paid_payment_id(con, paid.appointment_id)
    if first != paid.payment_id:
        log.warning(
            "second charge for one appointment: refunded",
            extra={"payment_id": str(paid.payment_id)},
        )
        await _refund(engines, paid.payment_id, None, "paid twice", DUPLICATE)
        return
    if appointment is not None and appointment["status"] != "cancelled":
        return  # booked by an earlier delivery of this event
    log.info("late payment lost its slot: refunded", extra={"payment_id": str(paid.payment_id)})
    await _refund(engines, paid.payment_id, None, "slot no longer available", SLOT_LOST)


async def refund_cancelled(
    engines: Engines, cancelled: AppointmentChanged, envelope: Envelope
) -> None:
    by = cancelled.cancelled_by
    if by not in ("patient", "doctor", "admin"):
        return  # an expired hold: nothing was paid, or book_paid_slot refunds it
    async with engines.pool.acquire() as con:
        payment = await store.paid_payment(con, cancelled.appointment_id)
    if payment is None or payment["status"] != "completed":
        return
    amount = policy_refund(payment, by, envelope.occurred_at, cancelled.start)
    if amount > 0:
        await _refund(engines, payment["id"], amount, f"cancelled by the {by}", CANCELLATION)


async def _refund(
    engines: Engines, payment_id: uuid.UUID, amount: int | None, reason: str, key: str
) -> None:
    try:
        await refund_payment(engines, payment_id, amount, reason, key, ACTOR)
    except RefundRefused as exc:  # nothing left to give back
        log.info("no refund", extra={"payment_id": str(payment_id), "why": exc.detail})


def handler_for(engines: Engines) -> BatchHandler:
    async def apply_event(_: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type == events.PAYMENT_COMPLETED:
            await book_paid_slot(engines, PaymentChanged.model_validate(envelope.data))
        else:
            cancelled = AppointmentChanged.model_validate(envelope.data)
            await refund_cancelled(engines, cancelled, envelope)

    # One event per transaction: see the module's docstring.
    return one_by_one(idempotent(engines.pool, CONSUMER, each(apply_event), clock.now))


async def run_payments_consumer(engines: Engines) -> None:
    if engines.payments is None:
        return
    await run_batch_consumer(engines.bus, CONSUMER, handler_for(engines), HANDLED)
