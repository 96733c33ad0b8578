"""Publish the outbox to JetStream: in order, with the event id as Nats-Msg-Id, retrying forever.

A row is marked sent only after JetStream acknowledged it, in the same transaction that locked it;
a crash between the two re-publishes the event and JetStream's dedup window drops the copy.

Every node runs a relay, but one publishes at a time: each batch runs under a transaction-level
advisory lock, so the stream holds the events in outbox order, hence each doctor's slot events in
availability_version order (two relays publishing side by side interleaved them, and watchers got
`resync` deltas). A relay that finds the lock taken leaves the rows to its holder.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime

import asyncpg

from bus.consumer import Clock, raise_if_cancelling
from bus.nats import Bus

log = logging.getLogger(__name__)

BATCH = 200
MAX_BACKOFF_S = 5.0
# Advisory lock key of the outbox publisher ("markini" in ASCII); locks are per database.
PUBLISHER_LOCK = 0x6D61726B696E69


async def publish_pending(pool: asyncpg.Pool, bus: Bus, now: Clock) -> int:
    """Publish one batch of unsent events, marked published at `now()` (the server's clock);
    return how many were sent (0 if another relay is)."""
    async with pool.acquire() as con, con.transaction():
        if not await con.fetchval("SELECT pg_try_advisory_xact_lock($1)", PUBLISHER_LOCK):
            return 0  # the holder publishes; a NOTIFY or the poll wakes us again
        rows = await con.fetch(
            """SELECT seq, id, type, occurred_at, actor, subject, data, version
               FROM bus.outbox WHERE published_at IS NULL
               ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
            BATCH,
        )
        for row in rows:
            body = {
                "id": str(row["id"]),
                "type": row["type"],
                "occurred_at": row["occurred_at"].isoformat(),
                "actor": row["actor"],
                "subject": row["subject"],
                "data": row["data"],
                "version": row["version"],
            }
            await bus.js.publish(
                bus.subject(row["type"]),
                json.dumps(body).encode(),
                headers={"Nats-Msg-Id": str(row["id"])},
                timeout=2,
            )
        if rows:
            await con.execute(
                "UPDATE bus.outbox SET published_at = $2 WHERE seq = ANY($1::bigint[])",
                [r["seq"] for r in rows],
                now(),
            )
        return len(rows)


async def wait_for_notify(wake: asyncio.Event, timeout: float) -> None:
    """Wait until wake is set or timeout passes. asyncio.timeout, not wait_for: on 3.11
    wait_for loses a cancel that lands as a NOTIFY wakes us, and the relay then never stops."""
    try:
        async with asyncio.timeout(timeout):
            await wake.wait()
    except TimeoutError:
        pass


async def run_relay(pool: asyncpg.Pool, bus: Bus, now: Clock, poll_interval: float = 0.2) -> None:
    """Forever: wake on NOTIFY (or the poll interval), publish, back off while NATS is down."""
    wake = asyncio.Event()

    def on_notify(*_: object) -> None:
        wake.set()

    # `async with` releases the listening connection even when cancelled mid-LISTEN at startup.
    async with pool.acquire() as listener:
        await listener.add_listener("bus_outbox", on_notify)
        backoff = poll_interval
        try:
            while True:
                raise_if_cancelling()
                # Before publishing: a NOTIFY during the batch is for rows it did not see.
                wake.clear()
                try:
                    sent = await publish_pending(pool, bus, now)
                    backoff = poll_interval
                    if sent == BATCH:
                        continue
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # NATS down or timing out: keep the rows, retry later
                    log.warning(
                        "outbox relay retrying", extra={"error": repr(exc), "in_s": backoff}
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
                await wait_for_notify(wake, poll_interval * 5)
        finally:
            await listener.remove_listener("bus_outbox", on_notify)


async def outbox_lag(pool: asyncpg.Pool, now: datetime) -> tuple[int, float]:
    """Unsent event count and the age in seconds at `now` of the oldest one."""
    row = await pool.fetchrow(
        """SELECT count(*) AS n,
                  coalesce(extract(epoch FROM $1 - min(occurred_at)), 0) AS age
           FROM bus.outbox WHERE published_at IS NULL""",
        now,
    )
    assert row is not None
    return int(row["n"]), float(row["age"])
