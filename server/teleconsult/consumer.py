"""Durable consumer "teleconsult-sessions": a confirmed teleconsultation appointment gets its
session; a cancelled, missed or completed one fails its session if the call never started.

Idempotent (bus.consumer.idempotent): each event id is applied once, in the transaction that
records it; creating a session twice is a no-op anyway (one session per appointment). Nothing
here calls out (a room id is ours): a fetched batch is applied event by event in one transaction
(bus.consumer.each).
"""

from __future__ import annotations

import logging
import uuid

import asyncpg

from bus import events
from bus.consumer import each, idempotent, run_batch_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.teleconsult.events import emit_ended
from server.teleconsult.service import ensure_session
from storage import teleconsult as store

log = logging.getLogger(__name__)

CONSUMER = "teleconsult-sessions"
CLOSING = {
    events.APPOINTMENT_CANCELLED: "appointment cancelled",
    events.APPOINTMENT_NO_SHOW: "appointment marked as a no-show",
    events.APPOINTMENT_COMPLETED: "appointment completed without a video call",
}
HANDLED = frozenset({events.APPOINTMENT_CONFIRMED, *CLOSING})


async def apply_event(con: asyncpg.Connection, envelope: Envelope) -> None:
    data = envelope.data
    if data.get("visit_type") != "teleconsultation":
        return
    appointment_id = uuid.UUID(str(data["appointment_id"]))
    if envelope.type == events.APPOINTMENT_CONFIRMED:
        _, created = await ensure_session(con, appointment_id, uuid.UUID(str(data["doctor_id"])))
        if created:
            log.info(
                "teleconsultation session opened", extra={"appointment_id": str(appointment_id)}
            )
        return
    closed = await store.fail_open_session_of_appointment(
        con, appointment_id, CLOSING[envelope.type], clock.now()
    )
    if closed is not None:
        await emit_ended(con, closed, uuid.UUID(str(data["patient_id"])), None)


async def run_session_consumer(engines: Engines) -> None:
    handler = idempotent(engines.pool, CONSUMER, each(apply_event), clock.now)
    await run_batch_consumer(engines.bus, CONSUMER, handler, HANDLED)
