"""Delete expired idempotency keys. Expired keys already count as absent when a request comes
(storage.idempotency.claim_key); the sweep only keeps the table small. Safe on many nodes."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from server import clock
from server.engines import Engines
from storage import idempotency as store

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 15 * 60
SWEEP_BATCH = 1000


async def delete_expired_keys(pool: asyncpg.Pool) -> int:
    """Delete every key expired by now, a batch per statement; return how many."""
    now = clock.now()
    deleted = 0
    while True:
        batch = await store.delete_expired_keys(pool, now, SWEEP_BATCH)
        deleted += batch
        if batch < SWEEP_BATCH:
            return deleted


async def run_idempotency_sweeper(engines: Engines) -> None:
    """Background task: sweep every SWEEP_INTERVAL_S, surviving database hiccups."""
    while True:
        try:
            deleted = await delete_expired_keys(engines.pool)
            if deleted:
                log.info("expired idempotency keys deleted", extra={"count": deleted})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("idempotency key sweep failed; retrying")
        await asyncio.sleep(SWEEP_INTERVAL_S)
