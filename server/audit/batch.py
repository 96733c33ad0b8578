"""Group commit for the entries the audit middleware writes itself (refusals, errors, routes
that record no change): the entries that arrive while one batch is being written go together
in the next, one statement each batch. Idle, an entry is written at once, alone; under a rush
(the 199 losers of a race for one slot, each answered 409) it waits for one statement instead of
queueing for a pool connection of its own. Every request still waits for its own entry."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from server.audit.service import AuditUnavailable
from storage.audit import NewAuditLog, insert_logs

log = logging.getLogger(__name__)

# A bound on one statement's size; a larger queue is written in several.
MAX_BATCH = 500


class GroupAppend:
    def __init__(self) -> None:
        self._waiting: list[tuple[NewAuditLog, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, pool: asyncpg.Pool, entry: NewAuditLog) -> None:
        """Write `entry` with whatever else is waiting; AuditUnavailable when its batch could
        not be written (nothing of that batch is)."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(pool))
        # Shielded: a request that goes away does not cancel its neighbours' statement.
        await asyncio.shield(written)

    async def _write(self, pool: asyncpg.Pool) -> None:
        batch: list[tuple[NewAuditLog, asyncio.Future[None]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    async with pool.acquire() as con:
                        await insert_logs(con, [entry for entry, _ in batch])
                except Exception:
                    log.exception("audit entries not written", extra={"entries": len(batch)})
                    _refuse(batch)
                else:
                    for _, written in batch:
                        written.set_result(None)
        finally:  # cancelled (shutdown): nobody waits for ever
            _refuse(batch + self._waiting)
            self._waiting = []
            self._writer = None


def _refuse(batch: list[tuple[NewAuditLog, asyncio.Future[None]]]) -> None:
    for _, written in batch:
        if not written.done():
            written.set_exception(AuditUnavailable())
