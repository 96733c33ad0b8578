"""Publish the outbox to JetStream: in order, with the event id as Nats-Msg-Id, retrying forever.

A row is marked sent only after JetStream acknowledged it, in the same transaction that locked it;
a crash between the two re-publishes the event and JetStream's dedup window drops the copy.

Every node runs a relay, but one publishes at a time: each batch runs under a transaction-level
advisory lock, so the stream holds the events in outbox order, hence each doctor's slot events in
availability_version order (two relays publishing side by side interleaved them, and watchers got
`resync` deltas). A relay that finds the lock taken leaves the rows to its holder.

A batch is pipelined: every publish is sent before the first acknowledgement is awaited (an
awaited round trip per event cost a third more CPU and a round trip's wait per event). Pipelining
must not let a later event overtake an earlier one that failed (lost with a dropped connection,
while nats-py buffers the next ones for the new connection), so each event after the batch's
first carries Nats-Expected-Last-Msg-Id, its predecessor's id: JetStream stores it only right
after its predecessor, and refuses it (or, already stored, drops it as a duplicate: the dedup
check comes first) otherwise. The rows acknowledged before the first failure are marked sent;
the rest wait for the next batch, whose first event expects nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime

import asyncpg
from nats.js.api import PubAck

from bus.consumer import Clock, raise_if_cancelling
from bus.nats import Bus

log = logging.getLogger(__name__)

BATCH = 200
MAX_BACKOFF_S = 5.0
# Advisory lock key of the outbox publisher ("markini" in ASCII); locks are per database.
PUBLISHER_LOCK = 0x6D61726B696E69
# How long a batch's acknowledgements may take once its last event is sent.
ACK_TIMEOUT_S = 2.0
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"


class BatchStopped(Exception):
    """Part of a batch was published; the rest waits for the next one (see the module doc)."""


async def publish_pending(pool: asyncpg.Pool, bus: Bus, now: Clock) -> int:
    """Publish one batch of unsent events, marked published at `now()` (the server's clock);
    return how many were sent (0 if another relay is).

    Raises BatchStopped (its cause: the NATS error) when JetStream did not acknowledge them all,
    after marking the leading rows it did acknowledge."""
    async with pool.acquire() as con, con.transaction():
        if not await con.fetchval("SELECT pg_try_advisory_xact_lock($1)", PUBLISHER_LOCK):
            return 0  # the holder publishes; a NOTIFY or the poll wakes us again
        rows = await con.fetch(
            """SELECT seq, id, type, occurred_at, actor, subject, data, version
               FROM bus.outbox WHERE published_at IS NULL
               ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
            BATCH,
        )
        acked, error = await publish_in_order(bus, rows)
        if acked:
            await con.execute(
                "UPDATE bus.outbox SET published_at = $2 WHERE seq = ANY($1::bigint[])",
                [r["seq"] for r in rows[:acked]],
                now(),
            )
    if error is not None:
        raise BatchStopped(f"{acked} of {len(rows)} events published") from error
    return acked


async def publish_in_order(bus: Bus, rows: list[asyncpg.Record]) -> tuple[int, Exception | None]:
    """Publish the outbox rows pipelined, each after the first expecting its predecessor as
    the stream's last message; return how many leading rows JetStream acknowledged and the
    error that stopped the others (None when all were)."""
    acks: list[asyncio.Future[PubAck]] = []
    error: Exception | None = None
    try:
        previous: str | None = None
        for row in rows:
            event_id = str(row["id"])
            headers = {"Nats-Msg-Id": event_id}
            if previous is not None:
                headers[EXPECTED_LAST_MSG_ID] = previous
            await _send(bus, bus.subject(row["type"]), _body(row), headers, acks)
            previous = event_id
    except Exception as exc:  # e.g. nats-py's outbound buffer full while NATS is away
        error = exc
    acked = 0
    try:
        async with asyncio.timeout(ACK_TIMEOUT_S):
            for ack in acks:
                await ack
                acked += 1
    except Exception as exc:  # a refusal or the timeout: this row and the later ones wait
        error = exc
    finally:
        for ack in acks[acked:]:
            ack.cancel()  # frees nats-py's pending slot; a late answer is dropped
    return acked, error


async def _send(
    bus: Bus,
    subject: str,
    body: bytes,
    headers: dict[str, str],
    acks: list[asyncio.Future[PubAck]],
) -> None:
    """js.publish_async, its ack's future appended to `acks`, minus a leak: nats-py (2.16)
    registers that future, then sends, and when sending raises (outbound buffer full during a
    long outage) leaves it behind, holding one of its publish_async_max_pending slots for good;
    the relay would stall once they were all held. Nothing runs between the two steps, so it is
    the newest entry; the relay is the node's only publish_async caller, so any entry not in
    `acks` is such a leftover."""
    try:
        acks.append(
            await bus.js.publish_async(subject, body, headers=headers, wait_stall=ACK_TIMEOUT_S)
        )
    except Exception:
        pending: dict[str, asyncio.Future[PubAck]] = bus.js._publish_async_futures
        newest = pending[next(reversed(pending))] if pending else None
        if newest is not None and not any(newest is ack for ack in acks):
            newest.cancel()  # its done-callback frees the slot
        raise


def _body(row: asyncpg.Record) -> bytes:
    return json.dumps(
        {
            "id": str(row["id"]),
            "type": row["type"],
            "occurred_at": row["occurred_at"].isoformat(),
            "actor": row["actor"],
            "subject": row["subject"],
            "data": row["data"],
            "version": row["version"],
        }
    ).encode()


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
