"""Delete expired idempotency keys. Expired keys already count as absent when a request comes
(storage.idempotency.claim_key); the sweep only keeps the table small. Safe on many nodes."""

from __future__ import annotations

import logging

import asyncpg

from server import clock
from server.engines import Engines
from server.tasks import sweep_forever
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
    await sweep_forever(
        lambda: delete_expired_keys(engines.pool),
        SWEEP_INTERVAL_S,
        "expired idempotency keys deleted",
        log,
    )
