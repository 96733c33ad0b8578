"""The hold sweeper: holds whose payment time ran out become cancelled (cancelled_by "system",
reason "hold expired") and their slots are released (slot.released + appointment.cancelled).

Safe on many nodes at once: each release runs the state machine under the hold's row lock, so a
hold already released (or paid) by then is refused and that transaction rolls back.
"""

from __future__ import annotations

import logging

import asyncpg

from server import clock
from server.engines import Engines
from server.scheduling.errors import TransitionRefused
from server.scheduling.transitions import apply_transition
from server.tasks import sweep_forever
from storage.scheduling import appointments as store

log = logging.getLogger(__name__)

BATCH = 100
SYSTEM_ACTOR = "system"


async def release_expired_holds(pool: asyncpg.Pool) -> int:
    """Release every overdue hold, one transaction each; return how many this call released."""
    released = 0
    while True:
        overdue = await store.overdue_holds(pool, clock.now(), BATCH)
        for appointment_id, doctor_id in overdue:
            try:
                async with pool.acquire() as con, con.transaction():
                    applied = await apply_transition(
                        con, appointment_id, doctor_id, "expire", actor=SYSTEM_ACTOR, party=None
                    )
            except TransitionRefused:  # another node released it, or it was paid just in time
                continue
            if applied is not None:
                released += 1
        if len(overdue) < BATCH:
            return released


async def run_hold_sweeper(engines: Engines) -> None:
    """Background task: sweep every `hold_sweep_interval_s`, surviving database hiccups."""
    await sweep_forever(
        lambda: release_expired_holds(engines.pool),
        engines.settings.hold_sweep_interval_s,
        "expired holds released",
        log,
    )
