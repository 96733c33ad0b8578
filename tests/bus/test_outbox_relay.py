"""Outbox events reach JetStream exactly once, across a NATS restart in the middle of the stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import nats
import pytest

from bus.consumer import each, idempotent, run_batch_consumer
from bus.embedded import embedded_nats, free_port
from bus.events import DOCTOR_UPDATED, Envelope
from bus.nats import connect_bus
from bus.outbox import emit
from bus.relay import run_relay
from server import clock
from storage.pool import open_pool

EVENTS_PER_PHASE = 40


async def _emit_events(pool: asyncpg.Pool, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        async with pool.acquire() as con, con.transaction():
            doctor_id = str(uuid.uuid4())
            envelope = await emit(
                con, DOCTOR_UPDATED, f"doctor:{doctor_id}", {"doctor_id": doctor_id}, at=clock.now()
            )
            ids.append(str(envelope.id))
    return ids


async def _wait_all_published(pool: asyncpg.Pool, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while await pool.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.05)


async def _stream_ids(url: str, stream: str, prefix: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe(f"{prefix}.>", stream=stream)
        ids: list[str] = []
        while True:
            try:
                msgs = await sub.fetch(100, timeout=1)
            # nats-py raises a bare asyncio.TimeoutError when its deadline runs out between the
            # no-wait probe and the lingering request (a loaded machine), its own otherwise.
            except (nats.errors.TimeoutError, TimeoutError):
                return ids
            for msg in msgs:
                ids.append(json.loads(msg.data)["id"])
                await msg.ack()
    finally:
        await nc.close()


async def test_events_reach_jetstream_exactly_once_across_a_nats_restart(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    stream, prefix = f"R{uuid.uuid4().hex[:8]}", f"r{uuid.uuid4().hex[:8]}"
    first_server = embedded_nats(tmp_path, port)
    url = await first_server.__aenter__()
    async with open_pool(database_url) as pool, connect_bus(url, stream, prefix) as bus:
        relay = asyncio.create_task(run_relay(pool, bus, clock.now, poll_interval=0.05))
        sent = await _emit_events(pool, EVENTS_PER_PHASE)
        await first_server.__aexit__(None, None, None)  # NATS dies mid-stream
        sent += await _emit_events(pool, EVENTS_PER_PHASE)  # buffered in PostgreSQL meanwhile
        pending = await pool.fetchval("SELECT count(*) FROM bus.outbox WHERE published_at IS NULL")
        assert pending > 0
        second_server = embedded_nats(tmp_path, port)  # same store: the stream survives
        await second_server.__aenter__()
        try:
            await _wait_all_published(pool)
            sent += await _emit_events(pool, EVENTS_PER_PHASE)
            await _wait_all_published(pool)
            relay.cancel()
            received = await _stream_ids(url, stream, prefix)
        finally:
            await second_server.__aexit__(None, None, None)
    assert sorted(received) == sorted(sent)  # every event, none doubled


async def test_republished_event_is_dropped_by_jetstream_dedup(
    database_url: str, engine_urls: object, settings: object
) -> None:
    from server.settings import Settings

    assert isinstance(settings, Settings)
    async with (
        open_pool(database_url) as pool,
        connect_bus(
            settings.nats_url or "", settings.nats_stream, settings.nats_subject_prefix
        ) as bus,
    ):
        async with pool.acquire() as con, con.transaction():
            envelope = await emit(
                con, DOCTOR_UPDATED, "doctor:x", {"doctor_id": str(uuid.uuid4())}, at=clock.now()
            )
        first = await bus.js.publish(
            bus.subject(envelope.type), b"{}", headers={"Nats-Msg-Id": str(envelope.id)}
        )
        again = await bus.js.publish(
            bus.subject(envelope.type), b"{}", headers={"Nats-Msg-Id": str(envelope.id)}
        )
        assert not first.duplicate and again.duplicate


async def test_idempotent_consumer_applies_each_event_once(
    database_url: str, settings: object
) -> None:
    from server.settings import Settings

    assert isinstance(settings, Settings)
    applied: list[str] = []
    async with (
        open_pool(database_url) as pool,
        connect_bus(
            settings.nats_url or "", settings.nats_stream, settings.nats_subject_prefix
        ) as bus,
    ):

        async def handler(con: asyncpg.Connection, envelope: Envelope) -> None:
            applied.append(str(envelope.id))

        handle = idempotent(pool, "test-consumer", each(handler), clock.now)
        relay = asyncio.create_task(run_relay(pool, bus, clock.now, poll_interval=0.05))
        consumer = asyncio.create_task(
            run_batch_consumer(bus, "test-consumer", handle, frozenset({DOCTOR_UPDATED}))
        )
        ids = await _emit_events(pool, 5)
        async with asyncio.timeout(20):
            while len(applied) < 5:
                await asyncio.sleep(0.05)
        # A redelivery (same envelope again) is skipped.
        envelope = Envelope(
            id=uuid.UUID(ids[0]), type=DOCTOR_UPDATED, subject="d", data={}, occurred_at=clock.now()
        )
        await handle([envelope])
        relay.cancel()
        consumer.cancel()
        await asyncio.gather(relay, consumer, return_exceptions=True)
    assert sorted(applied) == sorted(ids)


async def test_emit_outside_a_transaction_is_refused(database_url: str) -> None:
    async with open_pool(database_url) as pool, pool.acquire() as con:
        with pytest.raises(RuntimeError):
            await emit(
                con, DOCTOR_UPDATED, "doctor:x", {"doctor_id": str(uuid.uuid4())}, at=clock.now()
            )
        with pytest.raises(ValueError):
            async with con.transaction():
                await emit(con, "no.such.event", "x", {}, at=clock.now())
