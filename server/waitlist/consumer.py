"""Durable consumer "waitlist": a slot released with nobody waiting then (server.waitlist.offers
re-holds the others in the freeing transaction) is tried once more; hours a doctor added
(doctor.availability.updated) are offered to the patients waiting for them; and a visit completed,
cancelled or missed sends queue.updated to the patients of that doctor's day.

Idempotent (bus.consumer.idempotent): the offer commits with the event's handled mark, so a
redelivery never offers a slot twice. One event per transaction (bus.consumer.one_by_one), not
a batch: an offer holds its doctor's version row until commit, so a batch offering two doctors'
slots deadlocked with another node's batch offering them in the opposite order, and PostgreSQL's
refusal passed for "the slot is taken" while the batch committed the event as handled: the
waiting patient was never offered the slot.
"""

from __future__ import annotations

import asyncpg

from bus import events
from bus.consumer import BatchHandler, each, idempotent, one_by_one, run_batch_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.scheduling.events import AppointmentChanged, AvailabilityUpdated, SlotChanged
from server.waitlist.offers import offer_added_hours, offer_freed_slot
from server.waitlist.queue import announce_queue

CONSUMER = "waitlist"
# A visit of the day ended or went away: the later patients' standing changed.
QUEUE_EVENTS = frozenset(
    {events.APPOINTMENT_COMPLETED, events.APPOINTMENT_CANCELLED, events.APPOINTMENT_NO_SHOW}
)
HANDLED = frozenset({events.SLOT_RELEASED, events.DOCTOR_AVAILABILITY_UPDATED}) | QUEUE_EVENTS


def handler_for(pool: asyncpg.Pool) -> BatchHandler:
    async def apply_event(con: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.type in QUEUE_EVENTS:
            ended = AppointmentChanged.model_validate(envelope.data)
            await announce_queue(con, ended.doctor_id, ended.start, CONSUMER)
        elif envelope.type == events.DOCTOR_AVAILABILITY_UPDATED:
            changed = AvailabilityUpdated.model_validate(envelope.data)
            await offer_added_hours(con, changed.doctor_id)
        else:
            await offer_freed_slot(con, SlotChanged.model_validate(envelope.data))

    return one_by_one(idempotent(pool, CONSUMER, each(apply_event), clock.now))


async def run_waitlist_consumer(engines: Engines) -> None:
    await run_batch_consumer(engines.bus, CONSUMER, handler_for(engines.pool), HANDLED)
