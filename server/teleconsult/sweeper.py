"""Close consultations nobody ended: an `active` session whose joining window has closed
(appointment end + consult_grace_s) becomes `completed` at that instant, with its event.

Only active sessions are swept (a handful at any time); unstarted ones close with their
appointment (cancelled, no-show, completed: server/teleconsult/consumer.py).
"""

from __future__ import annotations

import logging

import asyncpg

from server import clock
from server.engines import Engines
from server.scheduling.service import appointment_parties
from server.settings import Settings
from server.tasks import sweep_forever
from server.teleconsult.access import join_window
from server.teleconsult.events import emit_ended
from storage import teleconsult as store

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60
SWEEP_BATCH = 200
# Any constant shared by every node: one sweeper at a time across the cluster.
SWEEP_LOCK_KEY = 0x54454C45434F4E53
WINDOW_CLOSED = "joining window closed"


async def close_expired_sessions(pool: asyncpg.Pool, settings: Settings) -> int:
    """End the active sessions whose window has closed; return how many."""
    closed = 0
    now = clock.now()
    async with pool.acquire() as lock_con:
        if not await lock_con.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK_KEY):
            return 0
        try:
            for row in await store.active_sessions(pool, SWEEP_BATCH):
                parties = await appointment_parties(pool, row["appointment_id"])
                if parties is None:
                    continue
                _, closes = join_window(parties, settings)
                if closes > now:
                    continue
                async with pool.acquire() as con, con.transaction():
                    ended = await store.mark_ended(
                        con, row["id"], "completed", None, WINDOW_CLOSED, at=closes
                    )
                    if ended is not None:
                        await emit_ended(con, ended, parties.patient_id, None)
                        await store.clear_presence(con, row["id"])
                        closed += 1
        finally:
            await lock_con.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK_KEY)
    return closed


async def run_session_sweeper(engines: Engines) -> None:
    """Background task: sweep every minute, surviving database hiccups."""
    await sweep_forever(
        lambda: close_expired_sessions(engines.pool, engines.settings),
        SWEEP_INTERVAL_S,
        "teleconsultations closed by their window",
        log,
    )
