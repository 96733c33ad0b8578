"""Durable consumer "notifications": appointment, payment and availability events become
messages.

Idempotent (bus.consumer.idempotent): the messages, the in-app notifications and the reminder
plan of one event are written in the transaction that records the event as handled. Nothing is
sent from here (email and SMS are queued rows, sent by the delivery worker), so a fetched batch
is applied event by event in one transaction (bus.consumer.each).
"""

from __future__ import annotations

import asyncpg

from bus.consumer import EventApplier, each, idempotent, run_batch_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.notifications.appointments import APPOINTMENT_TYPES, apply_appointment_event
from server.notifications.availability import AVAILABILITY_TYPES, apply_availability_event
from server.notifications.payments import PAYMENT_TYPES, apply_payment_event
from server.notifications.ports import LiveNotifications, pushing
from server.notifications.waitlist import WAITLIST_TYPES, apply_waitlist_event
from server.settings import Settings

CONSUMER = "notifications"
HANDLED = APPOINTMENT_TYPES | PAYMENT_TYPES | AVAILABILITY_TYPES | WAITLIST_TYPES


def handler_for(settings: Settings) -> EventApplier:
    async def apply(con: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type in PAYMENT_TYPES:
            await apply_payment_event(con, settings, envelope)
        elif envelope.type in AVAILABILITY_TYPES:
            await apply_availability_event(con, settings, envelope)
        elif envelope.type in WAITLIST_TYPES:
            await apply_waitlist_event(con, settings, envelope)
        else:
            await apply_appointment_event(con, settings, envelope)

    return apply


async def run_notification_consumer(engines: Engines, live: LiveNotifications | None) -> None:
    once = idempotent(engines.pool, CONSUMER, each(handler_for(engines.settings)), clock.now)

    async def handle(envelopes: list[Envelope]) -> None:
        async with pushing(live):  # live pushes after the batch's transaction commits
            await once(envelopes)

    await run_batch_consumer(engines.bus, CONSUMER, handle, HANDLED)
