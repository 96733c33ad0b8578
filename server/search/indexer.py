"""The search indexer: a durable consumer of doctor, slot and appointment events that keeps
`search.doctor_index` and the active backend current, and a sweeper for slots time has passed.

Events only name the doctor; the indexer re-reads the doctor (doctors tables) and asks the
scheduling service for free slots, so a late or repeated event can never write stale data.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import asyncpg

from bus import events
from bus.consumer import Handler, idempotent, run_consumer
from bus.events import Envelope
from server import clock
from server.engines import Engines
from server.search.cache import SearchCache
from server.search.indexing import refresh_availability, refresh_profile, remove_doctor
from server.search.service import cache_for
from storage.search import index
from storage.search.base import SearchBackend

log = logging.getLogger(__name__)

CONSUMER = "search-indexer"
PROFILE_EVENTS = frozenset(
    {events.DOCTOR_CREATED, events.DOCTOR_UPDATED, events.DOCTOR_VERIFIED, events.DOCTOR_REVIEWED}
)
AVAILABILITY_EVENTS = frozenset(
    {
        events.DOCTOR_AVAILABILITY_UPDATED,
        events.SLOT_HELD,
        events.SLOT_BOOKED,
        events.SLOT_RELEASED,
        events.APPOINTMENT_CREATED,
        events.APPOINTMENT_CONFIRMED,
        events.APPOINTMENT_CANCELLED,
        events.APPOINTMENT_RESCHEDULED,
        events.APPOINTMENT_COMPLETED,
        events.APPOINTMENT_NO_SHOW,
        events.APPOINTMENT_UPDATED,
    }
)
HANDLED = PROFILE_EVENTS | AVAILABILITY_EVENTS | {events.DOCTOR_DELETED}

# How often the sweeper looks for shown "next available" slots that are now in the past.
SWEEP_INTERVAL_S = 60
SWEEP_BATCH = 200
# Any constant shared by every node: one sweeper at a time across the cluster.
SWEEP_LOCK_KEY = 0x5345415243485357


async def apply_event(
    con: asyncpg.Connection, pool: asyncpg.Pool, backend: SearchBackend, envelope: Envelope
) -> bool:
    """Apply one event inside the consumer's transaction; return whether the index changed."""
    try:
        doctor_id = uuid.UUID(str(envelope.data["doctor_id"]))
    except (KeyError, ValueError):
        log.warning("search event without a doctor", extra={"event_id": str(envelope.id)})
        return False
    if envelope.type == events.DOCTOR_DELETED:
        return await remove_doctor(con, backend, doctor_id)
    if envelope.type in PROFILE_EVENTS:
        return await refresh_profile(con, pool, backend, doctor_id)
    version = envelope.data.get("availability_version")
    return await refresh_availability(
        con, pool, backend, doctor_id, int(version) if isinstance(version, int) else None
    )


def indexer_handler(pool: asyncpg.Pool, backend: SearchBackend, cache: SearchCache) -> Handler:
    changed = False

    async def apply(con: asyncpg.Connection, envelope: Envelope) -> None:
        nonlocal changed
        changed = await apply_event(con, pool, backend, envelope)

    once = idempotent(pool, CONSUMER, apply, clock.now)

    async def handle(envelope: Envelope) -> None:
        nonlocal changed
        changed = False  # the consumer calls handlers one at a time
        await once(envelope)
        if changed:  # only after the commit, so no reader caches the old answer anew
            await cache.invalidate()

    return handle


async def sweep_passed_slots(pool: asyncpg.Pool, backend: SearchBackend, cache: SearchCache) -> int:
    """Re-read doctors whose shown next slot has started; return how many changed."""
    changed = 0
    async with pool.acquire() as lock_con:
        if not await lock_con.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK_KEY):
            return 0
        try:
            for doctor_id in await index.passed_next_slots(pool, clock.now(), SWEEP_BATCH):
                async with pool.acquire() as con, con.transaction():
                    changed += await refresh_availability(con, pool, backend, doctor_id)
        finally:
            await lock_con.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK_KEY)
    if changed:
        await cache.invalidate()
    return changed


async def _sweep_forever(pool: asyncpg.Pool, backend: SearchBackend, cache: SearchCache) -> None:
    while True:
        await asyncio.sleep(SWEEP_INTERVAL_S)
        try:
            await sweep_passed_slots(pool, backend, cache)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("search sweep failed")


async def run_search_indexer(engines: Engines) -> None:
    """Background task (server/app.py BACKGROUND_TASKS): consumer and sweeper, forever."""
    cache = cache_for(engines)
    handler = indexer_handler(engines.pool, engines.search, cache)
    await asyncio.gather(
        run_consumer(engines.bus, CONSUMER, handler, HANDLED),
        _sweep_forever(engines.pool, engines.search, cache),
    )
