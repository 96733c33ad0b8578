"""`markini search reindex`: rebuild the search index from PostgreSQL (doctors and scheduling),
then the active backend, reporting progress per phase."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from server import clock
from server.search.availability import read_availability
from server.search.cache import SearchCache
from storage.search import index
from storage.search.base import SearchBackend

log = logging.getLogger(__name__)

# Called with (phase, done, total).
PhaseProgress = Callable[[str, int, int], None]

PROFILE_BATCH = 2000
# Each availability read runs a few scheduling queries; more at once would starve the pool
# the live app shares.
AVAILABILITY_CONCURRENCY = 4
_FIRST_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class ReindexReport:
    doctors: int
    indexed: int
    with_availability: int


def _quiet(phase: str, done: int, total: int) -> None:
    return None


async def _profiles(pool: asyncpg.Pool, progress: PhaseProgress) -> None:
    total, done, after = await index.count_doctors(pool), 0, _FIRST_ID
    progress("profiles", 0, total)
    while ids := await index.doctor_ids_after(pool, after, PROFILE_BATCH):
        async with pool.acquire() as con, con.transaction():
            indexed = set(await index.upsert_profiles(con, ids, clock.now()))
            await index.delete_doctors(con, [i for i in ids if i not in indexed])
        done, after = done + len(ids), ids[-1]
        progress("profiles", done, total)
    await index.delete_unlisted(pool)


async def _availability(pool: asyncpg.Pool, progress: PhaseProgress) -> int:
    await index.clear_unscheduled(pool, clock.now())
    total, done, after = await index.count_scheduled(pool), 0, _FIRST_ID
    progress("availability", 0, total)
    gate = asyncio.Semaphore(AVAILABILITY_CONCURRENCY)

    async def refresh(doctor_id: uuid.UUID) -> None:
        async with gate:
            found = await read_availability(pool, doctor_id)
            await index.set_availability(
                pool,
                doctor_id,
                found.offers_in_person,
                found.offers_teleconsultation,
                found.next_in_person,
                found.next_teleconsultation,
                found.version,
                clock.now(),
            )

    while ids := await index.scheduled_ids_after(pool, after, PROFILE_BATCH):
        await asyncio.gather(*(refresh(i) for i in ids))
        done, after = done + len(ids), ids[-1]
        progress("availability", done, total)
    return total


async def reindex(
    pool: asyncpg.Pool,
    backend: SearchBackend,
    cache: SearchCache,
    progress: PhaseProgress = _quiet,
) -> ReindexReport:
    """Safe while the app runs: rows are upserted in place and events keep flowing."""
    await _profiles(pool, progress)
    with_availability = await _availability(pool, progress)
    phase = backend.name
    await backend.rebuild(pool, lambda done, total: progress(phase, done, total), clock.now())
    await cache.invalidate()
    report = ReindexReport(
        doctors=await index.count_doctors(pool),
        indexed=await index.count_indexed(pool),
        with_availability=with_availability,
    )
    log.info("search reindexed", extra={"backend": backend.name, **report.__dict__})
    return report
