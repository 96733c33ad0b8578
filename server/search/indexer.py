"""The search indexer: a durable consumer of doctor, slot and appointment events that keeps
`search.doctor_index` and the active backend current, and a sweeper for slots time has passed.

Events only name the doctor; the indexer re-reads the doctor (doctors tables) and asks the
scheduling service for free slots, so a late or repeated event can never write stale data, and
a batch of events (bus.consumer.run_batch_consumer) refreshes each doctor it names once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Literal

import asyncpg

from bus import events
from bus.consumer import BatchHandler, idempotent, run_batch_consumer
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


@dataclass
class Refresh:
    """What one batch asks for one doctor: "deleted", "profile" (which re-reads the availability
    too) or "availability" (skipped when the row reflects `version` already; None: refresh)."""

    kind: Literal["deleted", "profile", "availability"]
    version: int | None = None


def refresh_plan(envelopes: list[Envelope]) -> dict[uuid.UUID, Refresh]:
    """One refresh per doctor named by the batch: the last deletion or profile event wins over
    availability events (both re-read everything); availability events merge their versions."""
    plan: dict[uuid.UUID, Refresh] = {}
    for envelope in envelopes:
        try:
            doctor_id = uuid.UUID(str(envelope.data["doctor_id"]))
        except (KeyError, ValueError):
            log.warning("search event without a doctor", extra={"event_id": str(envelope.id)})
            continue
        if envelope.type == events.DOCTOR_DELETED:
            plan[doctor_id] = Refresh("deleted")
            continue
        if envelope.type in PROFILE_EVENTS:
            plan[doctor_id] = Refresh("profile")
            continue
        version = envelope.data.get("availability_version")
        known = version if isinstance(version, int) and version > 0 else None
        earlier = plan.setdefault(doctor_id, Refresh("availability", known))
        if earlier.kind == "availability" and earlier.version is not None:
            earlier.version = max(earlier.version, known) if known is not None else None
    return plan


async def apply_events(
    con: asyncpg.Connection, pool: asyncpg.Pool, backend: SearchBackend, envelopes: list[Envelope]
) -> bool:
    """Apply a batch inside the consumer's transaction, each doctor once (in id order: one lock
    order for every node); return whether the index changed."""
    changed = False
    for doctor_id, refresh in sorted(refresh_plan(envelopes).items()):
        if refresh.kind == "deleted":
            changed |= await remove_doctor(con, backend, doctor_id)
        elif refresh.kind == "profile":
            changed |= await refresh_profile(con, pool, backend, doctor_id)
        else:
            changed |= await refresh_availability(con, pool, backend, doctor_id, refresh.version)
    return changed


def indexer_handler(pool: asyncpg.Pool, backend: SearchBackend, cache: SearchCache) -> BatchHandler:
    changed = False

    async def apply(con: asyncpg.Connection, envelopes: list[Envelope]) -> None:
        nonlocal changed
        changed = await apply_events(con, pool, backend, envelopes)

    once = idempotent(pool, CONSUMER, apply, clock.now)

    async def handle(envelopes: list[Envelope]) -> None:
        nonlocal changed
        changed = False  # the consumer hands over one batch at a time
        await once(envelopes)
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
        run_batch_consumer(engines.bus, CONSUMER, handler, HANDLED),
        _sweep_forever(engines.pool, engines.search, cache),
    )
