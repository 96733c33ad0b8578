"""Idempotent consumers apply a fetched batch in one transaction (issue #19): its events are
marked handled by one statement, a redelivered one is skipped, and a poison event makes the
batch fall back to one transaction per event, so it alone is nak'd and the others are applied
once. What a transaction did is counted only if PostgreSQL says it committed (txid_status).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable

import asyncpg
import nats.errors
import pytest
from nats.aio.msg import Msg

from bus.consumer import EventApplier, each, idempotent, run_batch_consumer
from bus.events import DOCTOR_UPDATED, Envelope
from bus.nats import Bus
from server import clock

pytestmark = pytest.mark.any_hour  # no hour is read: handled_at is only stored

# (transaction id, event id) for each event a handler saw, committed or not.
Seen = list[tuple[int, uuid.UUID]]


def _events(count: int) -> list[Envelope]:
    return [
        Envelope(type=DOCTOR_UPDATED, subject="doctor:x", data={}, occurred_at=clock.now())
        for _ in range(count)
    ]


def _recording(seen: Seen, poison: uuid.UUID | None = None) -> EventApplier:
    async def apply(con: asyncpg.Connection, envelope: Envelope) -> None:
        seen.append((await con.fetchval("SELECT txid_current()"), envelope.id))
        if envelope.id == poison:
            raise RuntimeError("poison event")

    return apply


async def _committed(pool: asyncpg.Pool, seen: Seen) -> list[uuid.UUID]:
    """The event ids of `seen` whose transaction committed, in the order seen."""
    status = {
        r["txid"]: r["status"]
        for r in await pool.fetch(
            "SELECT txid, txid_status(txid) AS status FROM unnest($1::bigint[]) AS txid",
            list({txid for txid, _ in seen}),
        )
    }
    return [event_id for txid, event_id in seen if status[txid] == "committed"]


async def _publish(bus: Bus, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        data = json.dumps(envelope.model_dump(mode="json")).encode()
        await bus.js.publish(bus.subject(envelope.type), data)


async def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.05)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_batch_is_one_transaction_and_a_redelivered_event_is_skipped(
    pool: asyncpg.Pool,
) -> None:
    seen: Seen = []
    first, later = _events(6), _events(3)
    handle = idempotent(pool, "batch", each(_recording(seen)), clock.now)
    await handle(first)
    assert len({txid for txid, _ in seen}) == 1
    assert [event_id for _, event_id in seen] == [e.id for e in first]
    # Redelivered alone, or mixed with new events (and one twice): only the new ones run,
    # once each, in stream order.
    seen.clear()
    await handle(first[2:4])
    assert seen == []
    await handle([first[0], later[0], first[1], later[1], later[0], later[2]])
    assert [event_id for _, event_id in seen] == [e.id for e in later]
    assert await _committed(pool, seen) == [e.id for e in later]
    handled = await pool.fetchval(
        "SELECT count(*) FROM bus.handled_events WHERE consumer = 'batch'"
    )
    assert handled == len(first) + len(later)


async def test_the_consumer_applies_a_fetched_batch_in_one_transaction(
    pool: asyncpg.Pool, bus: Bus
) -> None:
    seen: Seen = []
    sent = _events(10)
    # In the stream before the consumer starts: one fetch takes them all, twice over (the
    # second copy is a redelivery, e.g. a relay that published again after a crash).
    await _publish(bus, sent + sent)
    handle = idempotent(pool, "one-tx", each(_recording(seen)), clock.now)
    consumer = asyncio.create_task(run_batch_consumer(bus, "one-tx", handle))
    await _until(lambda: len(seen) >= len(sent))
    async with asyncio.timeout(30):
        while True:  # until all 20 are acked
            info = await bus.js.consumer_info(bus.stream, "one-tx")
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered:
                if info.delivered.stream_seq == 2 * len(sent):
                    break
            await asyncio.sleep(0.05)
    await _stop(consumer)
    assert len({txid for txid, _ in seen}) == 1
    assert await _committed(pool, seen) == [e.id for e in sent]


async def test_a_poison_event_is_nakd_alone_and_the_rest_of_its_batch_is_applied_once(
    pool: asyncpg.Pool, bus: Bus
) -> None:
    seen: Seen = []
    sent = _events(9)
    poison = sent[4].id
    await _publish(bus, sent)
    handle = idempotent(pool, "poison", each(_recording(seen, poison)), clock.now)
    consumer = asyncio.create_task(run_batch_consumer(bus, "poison", handle))
    # The batch fails, then each event runs alone; the poison one is nak'd and comes back
    # (in about 1 s; under load a redelivery can land in a pull request that just expired,
    # and then waits out the consumer's 30 s ack_wait).
    await _until(lambda: [event_id for _, event_id in seen].count(poison) >= 3, 90)
    await _stop(consumer)
    handled = {
        r["event_id"]
        for r in await pool.fetch(
            "SELECT event_id FROM bus.handled_events WHERE consumer = 'poison'"
        )
    }
    committed = await _committed(pool, seen)
    others = [e.id for e in sent if e.id != poison]
    assert committed == others  # each once, in stream order
    assert handled == set(others)
    # The batch ran in one transaction up to the poison event (rolled back), then each event
    # in a transaction of its own.
    batch_txid = seen[0][0]
    assert [event_id for txid, event_id in seen if txid == batch_txid] == [e.id for e in sent[:5]]
    alone = [(txid, event_id) for txid, event_id in seen if txid != batch_txid]
    assert [event_id for _, event_id in alone[: len(sent)]] == [e.id for e in sent]
    assert len({txid for txid, _ in alone}) == len(alone)


async def test_a_message_that_is_no_event_is_dropped_and_the_consumer_goes_on(
    pool: asyncpg.Pool, bus: Bus
) -> None:
    """Something other than the relay published to the stream (the relay's expected-last-id
    check allows for it): that message names no event, so no consumer can ever apply it; it
    must not stop the consumer (every node's, for good: it would come back after a restart)."""
    seen: Seen = []
    before, after = _events(2), _events(2)
    await _publish(bus, before)
    await bus.js.publish(bus.subject(DOCTOR_UPDATED), b"not an event")
    await _publish(bus, after)
    handle = idempotent(pool, "foreign", each(_recording(seen)), clock.now)
    consumer = asyncio.create_task(run_batch_consumer(bus, "foreign", handle))
    await _until(lambda: len(seen) >= 4 or consumer.done())
    assert not consumer.done(), consumer.exception()
    await _stop(consumer)
    assert await _committed(pool, seen) == [e.id for e in before + after]


async def test_a_lost_ack_does_not_end_the_consumer(
    pool: asyncpg.Pool, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ack that cannot be sent (connection lost, nats-py's outbound buffer full) used to end
    the consumer task for good: nothing restarts it. The event is redelivered after ack_wait
    and skipped as handled; the consumer goes on with the next ones."""
    seen: Seen = []
    first, later = _events(2), _events(2)
    real_ack = Msg.ack
    failed: list[bool] = []

    async def ack_lost_once(msg: Msg) -> None:
        if not failed:
            failed.append(True)
            raise nats.errors.OutboundBufferLimitError
        await real_ack(msg)

    monkeypatch.setattr(Msg, "ack", ack_lost_once)
    await _publish(bus, first)
    handle = idempotent(pool, "ack-lost", each(_recording(seen)), clock.now)
    consumer = asyncio.create_task(run_batch_consumer(bus, "ack-lost", handle))
    await _until(lambda: len(seen) >= len(first) or consumer.done())
    await _publish(bus, later)
    await _until(lambda: len(seen) >= len(first + later) or consumer.done())
    assert failed and not consumer.done(), consumer.exception() if consumer.done() else None
    await _stop(consumer)
    assert await _committed(pool, seen) == [e.id for e in first + later]
