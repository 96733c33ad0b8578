"""Durable consumer "waitlist": each freed slot (slot.released: a cancellation, a reschedule, an
expired hold or payment, a declined or lapsed offer) is offered to the next waiting patient.

Idempotent (bus.consumer.idempotent): the offer commits with the event's handled mark, so a
redelivery never offers a slot twice.
"""

from __future__ import annotations

import asyncpg

from bus import events
from bus.consumer import Handler, idempotent, run_consumer
from bus.events import Envelope
from server.engines import Engines
from server.scheduling.events import SlotChanged
from server.waitlist.offers import offer_freed_slot

CONSUMER = "waitlist"
HANDLED = frozenset({events.SLOT_RELEASED})


def handler_for(pool: asyncpg.Pool) -> Handler:
    async def apply_event(con: asyncpg.Connection, envelope: Envelope) -> None:
        await offer_freed_slot(con, SlotChanged.model_validate(envelope.data))

    return idempotent(pool, CONSUMER, apply_event)


async def run_waitlist_consumer(engines: Engines) -> None:
    await run_consumer(engines.bus, CONSUMER, handler_for(engines.pool), HANDLED)
