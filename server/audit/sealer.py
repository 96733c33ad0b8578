"""The audit sealer: chains committed, unsealed audit rows into the hash chain, off the request
path (issue #19).

Appends are plain INSERTs in their callers' transactions; every node runs this loop, and a
transaction-scoped advisory lock lets one seal at a time (the others skip the round). A round
seals batches until none is full, so the lag stays about SEAL_INTERVAL_S after a commit; rows a
crash left unsealed are sealed by the next round on any node. The order and the SQL are in
storage/migrations/0013_audit_sealer.sql.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from server import clock
from server.engines import Engines
from storage import audit as store

log = logging.getLogger(__name__)

# How often a node tries to seal: the bound on the lag between a commit and its seal.
SEAL_INTERVAL_S = 0.25
SEAL_BATCH = 2000
# Arbitrary but fixed: every node's sealer contends for this one lock key ("AUDITSEAL").
SEAL_LOCK_KEY = 0x4155444954_5345
# A failing round (database down) is retried after this long, not every SEAL_INTERVAL_S.
RETRY_AFTER_S = 2.0


async def seal_pending(pool: asyncpg.Pool, batch: int = SEAL_BATCH) -> int:
    """Seal every row committed so far, in batches; returns how many this call sealed.

    Returns 0 at once when another sealer holds the lock (it seals them).
    """
    total = 0
    async with pool.acquire() as con:
        while True:
            sealed = await store.seal(con, SEAL_LOCK_KEY, batch, clock.now())
            if sealed is None:
                return total
            total += sealed
            if sealed < batch:
                return total


async def run_sealer(engines: Engines) -> None:
    """The node's sealer loop, until cancelled; a failure is logged and retried."""
    while True:
        try:
            await seal_pending(engines.pool)
            delay = SEAL_INTERVAL_S
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("audit sealing failed; retrying")
            delay = RETRY_AFTER_S
        await asyncio.sleep(delay)
